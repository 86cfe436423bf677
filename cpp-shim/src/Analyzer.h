// One connection's view of the engine: feeds payload in, turns verdicts into
// the EncChan::verdict event. The engine state lives in memory this analyzer
// owns, of the size the engine asks for.
#pragma once

// TCP session adapters treat every child as a TCP application analyzer
// (EndpointEOF, ConnectionClosed …), so that is the base, for UDP too.
#include <zeek/analyzer/protocol/tcp/TCP.h>

#include <cstdint>

#include "encchan.h"

namespace encchan_zeek {

class Analyzer : public zeek::analyzer::tcp::TCP_ApplicationAnalyzer {
public:
    explicit Analyzer(zeek::Connection* conn);
    ~Analyzer() override;

    void Done() override;
    void DeliverStream(int len, const u_char* data, bool orig) override;
    void DeliverPacket(int len, const u_char* data, bool orig, uint64_t seq, const zeek::IP_Hdr* ip,
                       int caplen) override;
    void Undelivered(uint64_t seq, int len, bool orig) override;
    void FlipRoles() override;

    static zeek::analyzer::Analyzer* Instantiate(zeek::Connection* conn) { return new Analyzer(conn); }

private:
    bool Ready();
    void Feed(const u_char* data, int len, bool orig);
    void Raise(bool ended);

    uint8_t* state = nullptr;
    size_t state_size = 0;
    bool started = false;
    bool failed = false;
    bool inspection_done = false;
    // Alert bits already raised as final to the scripts.
    uint32_t published = 0;
    // Zeek swapped originator and responder after the engine state was
    // placed: the engine's client is now Zeek's responder.
    bool flipped = false;

    uint8_t EngineDir(bool orig) const { return (orig != flipped) ? ENCCHAN_DIR_TO_SERVER : ENCCHAN_DIR_TO_CLIENT; }
};

} // namespace encchan_zeek
