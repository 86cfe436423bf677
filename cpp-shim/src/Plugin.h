// The encchan Zeek plugin: registers the ENCCHAN analyzer and attaches it to
// every TCP and UDP connection. No detection logic lives here: bytes go to
// the engine through include/encchan.h, verdicts come back as events.
#pragma once

#include <zeek/plugin/Plugin.h>

#include "encchan.h"

namespace plugin::EncChan_Engine {

class Plugin : public zeek::plugin::Plugin {
public:
    // The engine configuration all connections share (knobs set from
    // scripts through the BiFs in encchan.bif).
    EncchanConfig* Config() const { return config; }

protected:
    zeek::plugin::Configuration Configure() override;
    void InitPostScript() override;
    void Done() override;
    void HookSetupAnalyzerTree(zeek::Connection* conn) override;

private:
    EncchanConfig* config = nullptr;
};

extern Plugin plugin;

} // namespace plugin::EncChan_Engine
