# Loaded when the plugin is active. The detection policy (knobs, log,
# notices) lives in the package's zeek-scripts/, loaded with @load.
