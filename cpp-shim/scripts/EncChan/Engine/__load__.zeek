# `@load EncChan/Engine` loads the encchan policy scripts shipped beside the
# plugin (zeek-scripts/ in the source tree).
