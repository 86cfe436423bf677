#include "Plugin.h"

#include <zeek/Conn.h>
#include <zeek/Reporter.h>
#include <zeek/analyzer/Component.h>
#include <zeek/packet_analysis/protocol/ip/SessionAdapter.h>
#include <zeek/packet_analysis/protocol/tcp/TCPSessionAdapter.h>

#include "Analyzer.h"

namespace plugin::EncChan_Engine {
Plugin plugin;
}

using namespace plugin::EncChan_Engine;

zeek::plugin::Configuration Plugin::Configure() {
    AddComponent(new zeek::analyzer::Component("ENCCHAN", encchan_zeek::Analyzer::Instantiate));

    // The header this plugin was built against must match the library.
    if ( encchan_config_new(ENCCHAN_ABI_VERSION, &config) != ENCCHAN_STATUS_OK )
        zeek::reporter->FatalError("encchan: engine ABI %u does not match this plugin's %u", encchan_abi_version(),
                                   ENCCHAN_ABI_VERSION);

    EnableHook(zeek::plugin::HOOK_SETUP_ANALYZER_TREE);

    zeek::plugin::Configuration config;
    config.name = "EncChan::Engine";
    config.description = "Finds C2 hidden in encrypted channels (MITRE T1573) with the encchan engine";
    config.version.major = 0;
    config.version.minor = 1;
    config.version.patch = 0;
    return config;
}

void Plugin::InitPostScript() { zeek::plugin::Plugin::InitPostScript(); }

void Plugin::Done() {
    encchan_config_free(config);
    config = nullptr;
    zeek::plugin::Plugin::Done();
}

void Plugin::HookSetupAnalyzerTree(zeek::Connection* conn) {
    auto* adapter = conn->GetSessionAdapter();
    if ( ! adapter )
        return;

    switch ( conn->ConnTransport() ) {
        case TRANSPORT_TCP: {
            // Children of the TCP adapter get the reassembled stream.
            auto* tcp = static_cast<zeek::packet_analysis::TCP::TCPSessionAdapter*>(adapter);
            tcp->EnableReassembly();
            auto* a = new encchan_zeek::Analyzer(conn);
            a->SetTCP(tcp);
            tcp->AddChildAnalyzer(a);
            break;
        }
        case TRANSPORT_UDP: adapter->AddChildAnalyzer(new encchan_zeek::Analyzer(conn)); break;
        default: break;
    }
}
