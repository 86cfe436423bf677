#include "Analyzer.h"

#include <zeek/Conn.h>
#include <zeek/RunState.h>
#include <zeek/Val.h>

#include <cmath>
#include <cstdio>
#include <new>
#include <string>

#include "Plugin.h"
#include "encchan.bif.h"

using namespace encchan_zeek;

namespace {

uint64_t now_us() { return static_cast<uint64_t>(std::llround(zeek::run_state::network_time * 1e6)); }

uint8_t direction(bool orig) { return orig ? ENCCHAN_DIR_TO_SERVER : ENCCHAN_DIR_TO_CLIENT; }

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

// "key=value ..." for one alert: formatting of what the engine reported.
std::string evidence_text(uint32_t bit, const EncchanVerdict& v) {
    const auto& e = v.evidence;
    std::string s;
    auto dir_stats = [&](uint8_t d) {
        const auto& r = v.dirs[d == ENCCHAN_DIR_TO_SERVER ? 0 : 1];
        s += std::string("direction=") + (d == ENCCHAN_DIR_TO_SERVER ? "orig" : "resp");
        s += " entropy=" + fmt("%.3f", r.entropy);
        s += " collisions=" + std::to_string(r.collisions) + " expected=" + fmt("%.1f", r.collisions_expected);
        s += " printable=" + fmt("%.3f", r.printable_fraction);
        s += std::string(" encoding=") + encchan_encoding_name(r.encoding);
        s += " inspected=0-" + std::to_string(r.inspected);
        if ( r.format != ENCCHAN_NONE_U8 )
            s += std::string(" format=") + encchan_format_name(r.format);
    };
    switch ( bit ) {
        case 0: // symmetric_only
        case 2: // encrypted_on_plaintext_port
            if ( e.high_entropy_direction != ENCCHAN_NONE_U8 )
                dir_stats(e.high_entropy_direction);
            if ( e.framing_without_handshake )
                s += " framing_without_handshake=T";
            if ( bit == 2 && e.server_port >= 0 )
                s += " server_port=" + std::to_string(e.server_port);
            break;
        case 1: s = "server_port=" + std::to_string(e.server_port); break;
        case 3:
        case 4:
            if ( e.has_handshake ) {
                s = std::string("protocol=") + encchan_protocol_name(e.handshake_protocol);
                s += std::string(" direction=") + (e.handshake_direction == ENCCHAN_DIR_TO_SERVER ? "orig" : "resp");
                s += " offset=" + std::to_string(e.handshake_offset);
                if ( e.handshake_reason != ENCCHAN_NONE_U8 )
                    s += std::string(" reason=") + encchan_reason_name(e.handshake_reason);
                s += " elapsed_us=" + std::to_string(e.handshake_elapsed_us);
            }
            break;
        case 5: s = fmt("cipher_suite=0x%04x", static_cast<double>(e.cipher_suite)); break;
        case 6:
            s = "ratio=" + fmt("%.2f", e.asymmetry_ratio) + " orig_bytes=" + std::to_string(v.dirs[0].bytes) +
                " resp_bytes=" + std::to_string(v.dirs[1].bytes);
            break;
        default: break;
    }
    return s;
}

} // namespace

Analyzer::Analyzer(zeek::Connection* conn) : zeek::analyzer::tcp::TCP_ApplicationAnalyzer("ENCCHAN", conn) {}

Analyzer::~Analyzer() { ::operator delete(state, std::align_val_t(encchan_state_align())); }

bool Analyzer::Ready() {
    if ( started || failed )
        return ! failed;
    started = true;
    state_size = encchan_state_size();
    state = static_cast<uint8_t*>(::operator new(state_size, std::align_val_t(encchan_state_align())));
    auto* conn = Conn();
    bool tcp = conn->ConnTransport() == TRANSPORT_TCP;
    // A TCP flow is observed from its start when the originator's SYN was
    // seen: only then does a missing key exchange mean anything.
    uint8_t start = (! tcp || conn->GetHistory().find('S') != std::string::npos) ? ENCCHAN_START_OBSERVED : ENCCHAN_START_MIDSTREAM;
    int rc = encchan_flow_init(state, state_size, tcp ? ENCCHAN_TRANSPORT_TCP : ENCCHAN_TRANSPORT_UDP,
                               ntohs(conn->OrigPort()), ntohs(conn->RespPort()), start, now_us());
    failed = rc != ENCCHAN_STATUS_OK;
    return ! failed;
}

void Analyzer::Feed(const u_char* data, int len, bool orig) {
    if ( len <= 0 || ! Ready() )
        return;
    auto* cfg = ::plugin::EncChan_Engine::plugin.Config();
    int rc;
    if ( encchan_flow_is_decided(state, state_size) == 1 )
        // The engine has its verdict: count, do not inspect.
        rc = encchan_flow_account(state, state_size, direction(orig), static_cast<uint64_t>(len), now_us());
    else
        rc = encchan_flow_feed(cfg, state, state_size, direction(orig), data, static_cast<size_t>(len), now_us());
    if ( rc < 0 ) {
        failed = true;
        return;
    }
    if ( rc == ENCCHAN_FEED_DECIDED && ! decided_raised ) {
        decided_raised = true;
        Raise(false);
    }
}

void Analyzer::DeliverStream(int len, const u_char* data, bool orig) {
    zeek::analyzer::tcp::TCP_ApplicationAnalyzer::DeliverStream(len, data, orig);
    Feed(data, len, orig);
}

void Analyzer::DeliverPacket(int len, const u_char* data, bool orig, uint64_t seq, const zeek::IP_Hdr* ip,
                             int caplen) {
    zeek::analyzer::tcp::TCP_ApplicationAnalyzer::DeliverPacket(len, data, orig, seq, ip, caplen);
    Feed(data, len, orig);
}

void Analyzer::Undelivered(uint64_t seq, int len, bool orig) {
    zeek::analyzer::tcp::TCP_ApplicationAnalyzer::Undelivered(seq, len, orig);
    if ( len > 0 && Ready() )
        encchan_flow_gap(::plugin::EncChan_Engine::plugin.Config(), state, state_size, direction(orig),
                         static_cast<uint64_t>(len), now_us());
}

void Analyzer::Done() {
    zeek::analyzer::tcp::TCP_ApplicationAnalyzer::Done();
    if ( started && ! failed ) {
        encchan_flow_finish(::plugin::EncChan_Engine::plugin.Config(), state, state_size, now_us());
        Raise(true);
    }
}

void Analyzer::Raise(bool final) {
    if ( ! EncChan::verdict )
        return;
    EncchanVerdict v{};
    if ( encchan_flow_verdict(::plugin::EncChan_Engine::plugin.Config(), state, state_size, &v) != ENCCHAN_STATUS_OK )
        return;

    static auto verdict_type = zeek::id::find_type<zeek::RecordType>("EncChan::Verdict");
    static auto string_vec = zeek::id::find_type<zeek::VectorType>("string_vec");
    static auto evidence_type = zeek::id::find_type<zeek::TableType>("EncChan::EvidenceTable");

    auto rec = zeek::make_intrusive<zeek::RecordVal>(verdict_type);
    if ( v.protocol != ENCCHAN_NONE_U8 )
        rec->AssignField("protocol", zeek::make_intrusive<zeek::StringVal>(encchan_protocol_name(v.protocol)));
    rec->AssignField("content", zeek::make_intrusive<zeek::StringVal>(encchan_content_name(v.content)));
    auto alerts = zeek::make_intrusive<zeek::VectorVal>(string_vec);
    auto evidence = zeek::make_intrusive<zeek::TableVal>(evidence_type);
    for ( uint32_t bit = 0; bit < ENCCHAN_ALERT_COUNT; ++bit ) {
        if ( ! (v.alerts & (1u << bit)) )
            continue;
        auto name = zeek::make_intrusive<zeek::StringVal>(encchan_alert_name(bit));
        alerts->Append(name);
        evidence->Assign(name, zeek::make_intrusive<zeek::StringVal>(evidence_text(bit, v)));
    }
    rec->AssignField("alerts", std::move(alerts));
    rec->AssignField("evidence", std::move(evidence));
    rec->AssignField("orig_bytes", zeek::val_mgr->Count(v.dirs[0].bytes));
    rec->AssignField("resp_bytes", zeek::val_mgr->Count(v.dirs[1].bytes));
    if ( v.dirs[0].has_entropy )
        rec->AssignField("orig_entropy", zeek::make_intrusive<zeek::DoubleVal>(v.dirs[0].entropy));
    if ( v.dirs[1].has_entropy )
        rec->AssignField("resp_entropy", zeek::make_intrusive<zeek::DoubleVal>(v.dirs[1].entropy));
    if ( v.tls_version )
        rec->AssignField("tls_version", zeek::val_mgr->Count(v.tls_version));
    if ( v.tls_cipher_suite )
        rec->AssignField("tls_cipher_suite", zeek::val_mgr->Count(v.tls_cipher_suite));
    rec->AssignField("key_exchange_complete", zeek::val_mgr->Bool(v.key_exchange_complete));
    rec->AssignField("decided", zeek::val_mgr->Bool(v.decided));
    rec->AssignField("final", zeek::val_mgr->Bool(final));

    EnqueueConnEvent(EncChan::verdict, ConnVal(), std::move(rec));
}
