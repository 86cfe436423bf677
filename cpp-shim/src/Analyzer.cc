#include "Analyzer.h"

#include <zeek/Conn.h>
#include <zeek/RunState.h>
#include <zeek/Val.h>

#include <cmath>
#include <cstring>
#include <new>
#include <string>

#include "Plugin.h"
#include "encchan.bif.h"

using namespace encchan_zeek;

namespace {

uint64_t now_us() { return static_cast<uint64_t>(std::llround(zeek::run_state::network_time * 1e6)); }

// "key=value ..." for one alert, as the engine's serializer writes it for
// every front end.
std::string evidence_text(const EncchanConfig* cfg, const uint8_t* state, size_t size, uint32_t bit) {
    char buf[1024];
    int need = encchan_flow_evidence_text(cfg, state, size, ENCCHAN_NOW, bit, buf, sizeof buf);
    if ( need < 0 )
        return std::string();
    if ( static_cast<size_t>(need) < sizeof buf )
        return std::string(buf, static_cast<size_t>(need));
    std::string s(static_cast<size_t>(need) + 1, '\0');
    encchan_flow_evidence_text(cfg, state, size, ENCCHAN_NOW, bit, s.data(), s.size());
    s.resize(static_cast<size_t>(need));
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
    if ( rc == ENCCHAN_STATUS_OK ) {
        // A broadcast or multicast responder makes the flow an announcement.
        const uint32_t* words;
        int n = conn->RespAddr().GetBytes(&words);
        rc = encchan_flow_note_address(state, state_size, reinterpret_cast<const uint8_t*>(words),
                                       static_cast<size_t>(n) * 4);
    }
    failed = rc != ENCCHAN_STATUS_OK;
    return ! failed;
}

void Analyzer::Feed(const u_char* data, int len, bool orig) {
    if ( len <= 0 || ! Ready() )
        return;
    auto* cfg = ::plugin::EncChan_Engine::plugin.Config();
    int rc;
    if ( inspection_done )
        // The engine inspects no more: count, do not inspect.
        rc = encchan_flow_account(state, state_size, EngineDir(orig), static_cast<uint64_t>(len), now_us());
    else
        rc = encchan_flow_feed(cfg, state, state_size, EngineDir(orig), data, static_cast<size_t>(len), now_us());
    if ( rc < 0 ) {
        failed = true;
        return;
    }
    if ( rc & ENCCHAN_FEED_INSPECTION_DONE )
        inspection_done = true;
    // The engine's rule: on news, publish the alerts that became final.
    if ( rc & ENCCHAN_FEED_NEWS )
        Raise(false);
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
        encchan_flow_gap(::plugin::EncChan_Engine::plugin.Config(), state, state_size, EngineDir(orig),
                         static_cast<uint64_t>(len), now_us());
}

void Analyzer::FlipRoles() {
    zeek::analyzer::tcp::TCP_ApplicationAnalyzer::FlipRoles();
    // Before the first payload there is no state yet: Ready() takes the
    // ports as they are now.
    if ( started )
        flipped = ! flipped;
}

void Analyzer::Done() {
    zeek::analyzer::tcp::TCP_ApplicationAnalyzer::Done();
    if ( started && ! failed ) {
        encchan_flow_finish(::plugin::EncChan_Engine::plugin.Config(), state, state_size, now_us());
        Raise(true);
    }
}

void Analyzer::Raise(bool ended) {
    if ( ! EncChan::verdict )
        return;
    auto* cfg = ::plugin::EncChan_Engine::plugin.Config();
    EncchanVerdict v{};
    if ( encchan_flow_verdict(cfg, state, state_size, &v) != ENCCHAN_STATUS_OK )
        return;
    // While the connection goes on, only new final alerts are news to the
    // scripts.
    if ( ! ended && (v.final_alerts & ~published) == 0 )
        return;
    published |= v.final_alerts;

    static auto verdict_type = zeek::id::find_type<zeek::RecordType>("EncChan::Verdict");
    static auto string_vec = zeek::id::find_type<zeek::VectorType>("string_vec");
    static auto evidence_type = zeek::id::find_type<zeek::TableType>("EncChan::EvidenceTable");

    auto rec = zeek::make_intrusive<zeek::RecordVal>(verdict_type);
    if ( v.protocol != ENCCHAN_NONE_U8 )
        rec->AssignField("protocol", zeek::make_intrusive<zeek::StringVal>(encchan_protocol_name(v.protocol)));
    if ( v.carrier != ENCCHAN_NONE_U8 )
        rec->AssignField("carrier", zeek::make_intrusive<zeek::StringVal>(encchan_protocol_name(v.carrier)));
    // NUL-terminated by the engine; bounded here all the same.
    size_t host_len = strnlen(v.destination_host, sizeof v.destination_host);
    if ( host_len > 0 )
        rec->AssignField("destination_host", zeek::make_intrusive<zeek::StringVal>(host_len, v.destination_host));
    if ( v.destination_port != 0 )
        rec->AssignField("destination_port", zeek::val_mgr->Port(v.destination_port, Conn()->ConnTransport()));
    rec->AssignField("content", zeek::make_intrusive<zeek::StringVal>(encchan_content_name(v.content)));
    auto alerts = zeek::make_intrusive<zeek::VectorVal>(string_vec);
    auto final_alerts = zeek::make_intrusive<zeek::VectorVal>(string_vec);
    auto evidence = zeek::make_intrusive<zeek::TableVal>(evidence_type);
    for ( uint32_t bit = 0; bit < ENCCHAN_ALERT_COUNT; ++bit ) {
        if ( ! (v.alerts & (1u << bit)) )
            continue;
        auto name = zeek::make_intrusive<zeek::StringVal>(encchan_alert_name(bit));
        alerts->Append(name);
        if ( v.final_alerts & (1u << bit) )
            final_alerts->Append(name);
        evidence->Assign(name, zeek::make_intrusive<zeek::StringVal>(evidence_text(cfg, state, state_size, bit)));
    }
    rec->AssignField("alerts", std::move(alerts));
    rec->AssignField("final_alerts", std::move(final_alerts));
    rec->AssignField("evidence", std::move(evidence));
    // The engine's client side is Zeek's originator unless Zeek flipped the
    // roles after the state was placed, or the engine took the originator
    // for the server (the start was not seen), not both.
    bool swap = flipped != v.roles_swapped;
    const auto& o = v.dirs[swap ? 1 : 0];
    const auto& r = v.dirs[swap ? 0 : 1];
    rec->AssignField("orig_bytes", zeek::val_mgr->Count(o.bytes));
    rec->AssignField("resp_bytes", zeek::val_mgr->Count(r.bytes));
    if ( o.has_entropy )
        rec->AssignField("orig_entropy", zeek::make_intrusive<zeek::DoubleVal>(o.entropy));
    if ( r.has_entropy )
        rec->AssignField("resp_entropy", zeek::make_intrusive<zeek::DoubleVal>(r.entropy));
    if ( v.tls_version )
        rec->AssignField("tls_version", zeek::val_mgr->Count(v.tls_version));
    if ( v.tls_cipher_suite )
        rec->AssignField("tls_cipher_suite", zeek::val_mgr->Count(v.tls_cipher_suite));
    rec->AssignField("key_exchange_complete", zeek::val_mgr->Bool(v.key_exchange_complete));
    rec->AssignField("inspection_done", zeek::val_mgr->Bool(v.inspection_done));
    rec->AssignField("ended", zeek::val_mgr->Bool(ended));

    EnqueueConnEvent(EncChan::verdict, ConnVal(), std::move(rec));
}
