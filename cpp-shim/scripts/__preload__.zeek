# Types the plugin's BiFs and events use; loaded before the BiFs.
@load ./types
