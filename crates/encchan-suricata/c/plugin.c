/* encchan Suricata plugin: feeds Suricata's reassembled TCP payload and UDP
 * datagrams to the encchan engine, one engine state per flow in Suricata's
 * flow storage, and publishes the verdicts to rules and EVE.
 *
 * Thin by design: no detection logic here. Everything that judges bytes is
 * in the engine (include/encchan.h); the keyword/knob parsing is in the
 * crate's Rust side (encchan_suricata_*).
 *
 * Built twice from this file (see the Makefile): against Suricata 8.0's
 * installed headers (ENCCHAN_SURICATA_MAJOR=8: SCPlugin with
 * SC_API_VERSION, loggers registered when logging is ready, the `encchan`
 * rule keyword, fields in EVE records through the EVE callback) and against
 * Suricata 7.0's configured source tree (ENCCHAN_SURICATA_MAJOR=7: the
 * official API covers only EVE file types and capture, so Init registers
 * output modules with the functions the binary exports; verdicts reach
 * rules through flowbits and EVE-format records go to encchan.json).
 *
 * Threads: every callback that touches a flow's state runs with that flow
 * locked by Suricata's flow worker (or the flow manager at flow end), so the
 * packet path takes no lock of its own. */

#include "suricata-common.h"
#include "suricata-plugin.h"
#include "conf.h"
#include "decode.h"
#include "flow.h"
#include "flow-bit.h"
#include "flow-storage.h"
#include "output.h"
#include "output-flow.h"
#include "output-packet.h"
#include "output-streaming.h"
#include "stream-tcp-private.h"
#include "util-var-name.h"
#if ENCCHAN_SURICATA_MAJOR < 8
#include "util-conf.h"
#include "util-print.h"
#include "util-time.h"
#endif
#if ENCCHAN_SURICATA_MAJOR >= 8
#include "detect.h"
#include "detect-engine-helper.h"
#include "detect-engine-register.h"
#include "detect-parse.h"
#include "detect-engine-prefilter-common.h"
#include "output-eve.h"
#include "util-prefilter.h"
#endif

#include <stdatomic.h>

#include "encchan.h"

/* The crate's Rust side. */
int64_t encchan_suricata_parse_alerts(const char *spec);

#if ENCCHAN_SURICATA_MAJOR >= 8
#define EC_ConfGet SCConfGet
#define EC_ConfGetNode SCConfGetNode
#define EC_ConfNode SCConfNode
#define EC_JB SCJsonBuilder
#else
#define EC_ConfGet ConfGet
#define EC_ConfGetNode ConfGetNode
#define EC_ConfNode ConfNode
#endif

/* One flow's storage: the engine state and what the plugin remembers about
 * publishing it. Allocated once per flow (by Suricata's flow storage, on the
 * flow's first payload), freed with the flow. */
typedef struct EncchanFlowSlot {
    uint32_t alerts;   /* alert bits already published as flowbits */
    uint8_t ready;     /* engine state initialized */
    uint8_t inspection_done; /* the engine inspects no more: only count */
    uint8_t finished;  /* flow end seen */
    uint8_t failed;    /* engine reported an error: leave the flow alone */
    uint8_t raw_held;  /* TCP directions whose raw reassembly we keep on */
    uint8_t dirs_done; /* directions whose inspection ended (bit per dir) */
    uint8_t closed;    /* a TCP stream was delivered to its end: no byte comes after */
    uint8_t gapped;    /* directions reported to the engine as cut (bit per dir) */
    uint8_t end_known; /* the end verdict of the engine's state as it is is published:
                        * nothing fed, counted or cut since (a verdict costs as much as
                        * a few KiB of payload; a closing flow asks for it repeatedly) */
    uint8_t pad[3];
    /* Per direction: the stream offset up to which the streaming logger
     * gave us bytes, and how many of them were missing (gaps). */
    uint64_t delivered[2];
    uint64_t gap_bytes[2];
    uint8_t state[];   /* encchan_state_size() bytes, 16-aligned */
} EncchanFlowSlot;
_Static_assert(sizeof(EncchanFlowSlot) % 16 == 0, "the engine's state must stay 16-aligned");

static EncchanConfig *g_config;
static FlowStorageId g_storage = { .id = -1 };
static size_t g_state_size;
static atomic_uint_fast64_t g_errors;

#if ENCCHAN_SURICATA_MAJOR < 8
static void WriteRecord(void *thread_data, Flow *f, EncchanFlowSlot *s);
#endif

static uint64_t time_us(SCTime_t t)
{
    return (uint64_t)SCTIME_SECS(t) * 1000000u + (uint64_t)SCTIME_USECS(t);
}

static void *SlotAlloc(unsigned int size)
{
    return SCCalloc(1, size);
}

static void SlotFree(void *p)
{
    SCFree(p);
}

/* ---- knobs: the `encchan:` section of suricata.yaml ---- */

/* Every knob of the engine's table, by its name with `-` for `_`
 * (encchan.entropy-threshold, encchan.ports.tls): a scalar as it is, a
 * list (the port profiles) joined with commas. The engine parses and
 * checks the value; a refused one is a configuration error and the plugin
 * does not start. */
static bool ConfigureKnobs(void)
{
    bool ok = true;
    for (uint32_t i = 0; i < encchan_knob_count(); i++) {
        char key[96], value[2048], err[256];
        snprintf(key, sizeof key, "encchan.%s", encchan_knob_name(i));
        for (char *c = key; *c; c++)
            if (*c == '_')
                *c = '-';
        EC_ConfNode *node = EC_ConfGetNode(key);
        if (node == NULL)
            continue;
        size_t len = 0;
        value[0] = 0;
        if (TAILQ_EMPTY(&node->head)) {
            snprintf(value, sizeof value, "%s", node->val ? node->val : "");
        } else {
            EC_ConfNode *item;
            TAILQ_FOREACH (item, &node->head, next) {
                int n = snprintf(value + len, sizeof value - len, "%s%s", len ? "," : "", item->val ? item->val : "");
                if (n < 0 || (size_t)n >= sizeof value - len) {
                    len = sizeof value; /* too long: let the engine refuse it */
                    break;
                }
                len += (size_t)n;
            }
        }
        if (encchan_config_set(g_config, encchan_knob_name(i), value, err, sizeof err) != 0) {
            SCLogError("encchan: configuration error in %s: %s", key, err);
            ok = false;
        }
    }
    return ok;
}

/* Which flows' verdicts EVE carries (`encchan.eve`): "alerts" (the
 * default), only flows with an engine alert; "all", every judged flow.
 * Writing the verdict of every clean flow was about 40 % of what the plugin
 * cost Suricata 8 (callgrind, benches/instructions.sh), for records an
 * analyst does not read; "all" is for hunting and for tests. */
static bool g_eve_all;

static bool ConfigureEve(void)
{
    const char *eve = NULL;
    if (EC_ConfGet("encchan.eve", &eve) != 1 || eve == NULL || strcmp(eve, "alerts") == 0) {
        g_eve_all = false;
        return true;
    }
    if (strcmp(eve, "all") == 0) {
        g_eve_all = true;
        return true;
    }
    SCLogError("encchan: configuration error in encchan.eve: \"%s\" (expected \"alerts\" or \"all\")", eve);
    return false;
}

/* Whether EVE gets this flow's verdict (its alerts so far, all of them at
 * the flow's end). */
static bool EveWants(const EncchanFlowSlot *s)
{
    return g_eve_all || s->alerts != 0;
}

static bool ConfigureEngine(void)
{
    if (encchan_abi_version() != ENCCHAN_ABI_VERSION ||
            encchan_config_new(ENCCHAN_ABI_VERSION, &g_config) != 0) {
        SCLogError("encchan: engine ABI %u, plugin built for %u", encchan_abi_version(), ENCCHAN_ABI_VERSION);
        return false;
    }
    /* A knob the engine refused is a configuration error: Suricata does
     * not start, as with its own settings. */
    if (!ConfigureKnobs() || !ConfigureEve())
        FatalError("encchan: invalid `encchan:` section in the configuration (see the errors above)");
    g_state_size = encchan_state_size();
    return true;
}

/* ---- per-flow engine state ---- */

static void FlowPorts(const Flow *f, uint16_t *client, uint16_t *server)
{
    /* Suricata keeps the first packet's addresses; a reversed flow's
     * initiator is the other side. */
    bool reversed = (f->flags & FLOW_DIR_REVERSED) != 0;
    *client = reversed ? f->dp : f->sp;
    *server = reversed ? f->sp : f->dp;
}

static EncchanFlowSlot *SlotFor(Flow *f, uint64_t ts)
{
    EncchanFlowSlot *s = FlowGetStorageById(f, g_storage);
    if (s == NULL) {
        s = FlowAllocStorageById(f, g_storage);
        if (s == NULL)
            return NULL;
    }
    if (!s->ready && !s->failed) {
        uint16_t client, server;
        FlowPorts(f, &client, &server);
        uint8_t transport = f->proto == IPPROTO_UDP ? ENCCHAN_TRANSPORT_UDP : ENCCHAN_TRANSPORT_TCP;
        uint8_t start = ENCCHAN_START_OBSERVED;
        if (f->proto == IPPROTO_TCP) {
            const TcpSession *ssn = f->protoctx;
            if (ssn == NULL || (ssn->flags & STREAMTCP_FLAG_MIDSTREAM))
                start = ENCCHAN_START_MIDSTREAM;
        }
        /* The first packet's destination: a broadcast or multicast one
         * makes the flow an announcement. */
        size_t addr_len = FLOW_IS_IPV4(f) ? 4 : 16;
        if (encchan_flow_init(s->state, g_state_size, transport, client, server, start, ts) == 0 &&
            encchan_flow_note_address(s->state, g_state_size, f->dst.address.address_un_data8, addr_len) == 0)
            s->ready = 1;
        else
            s->failed = 1;
    }
    return s;
}

/* Publishes the engine's alerts to rules: `encchan.<alert>` flowbits (and
 * `encchan.alert`) for 7.0 and 8.0 rules, and the bits the 8.0 keyword
 * reads. */
static void PublishAlerts(Flow *f, EncchanFlowSlot *s, uint32_t alerts)
{
    uint32_t fresh = alerts & ~s->alerts;
    if (fresh == 0)
        return;
    s->alerts |= fresh;
    char name[64];
    for (uint32_t bit = 0; bit < ENCCHAN_ALERT_COUNT; bit++) {
        if (!(fresh & (1u << bit)))
            continue;
        snprintf(name, sizeof name, "encchan.%s", encchan_alert_name(bit));
        uint32_t idx = VarNameStoreLookupByName(name, VAR_TYPE_FLOW_BIT);
        if (idx != 0)
            FlowBitSet(f, idx);
    }
    uint32_t any = VarNameStoreLookupByName("encchan.alert", VAR_TYPE_FLOW_BIT);
    if (any != 0)
        FlowBitSet(f, any);
}

/* Rules run on packets, so they can only see a verdict reached while the
 * flow still has packets. When to publish is the engine's rule: when a feed
 * reports news, the alerts that have become final (no later byte can take
 * them back) are set as flowbits; at the flow's end, and on a closing
 * packet as if it were the end, all of them. EVE flow records carry the
 * final verdict in every case. */
static void AfterFeed(Flow *f, EncchanFlowSlot *s, int rc)
{
    if (rc < 0) {
        s->failed = 1;
        /* Said once: the flow is left alone, the sensor goes on. */
        if (atomic_fetch_add(&g_errors, 1) == 0)
            SCLogWarning("encchan: engine error on a flow (%s); that flow is no longer inspected",
                    encchan_strerror(rc));
        return;
    }
    if (rc & ENCCHAN_FEED_INSPECTION_DONE)
        s->inspection_done = 1;
    if (!(rc & ENCCHAN_FEED_NEWS))
        return;
    /* A direction's inspection ending is news: hand its raw reassembly
     * back (HoldRawReassembly). */
    for (uint8_t d = 0; d < 2; d++)
        if (encchan_flow_dir_inspection_done(s->state, g_state_size, d) == 1)
            s->dirs_done |= (uint8_t)(1u << d);
    EncchanVerdict v;
    if (encchan_flow_verdict(g_config, s->state, g_state_size, &v) == 0)
        PublishAlerts(f, s, v.final_alerts);
}

/* Suricata stops reassembling a TCP stream once app-layer detection has
 * failed and no rule inspects the raw stream: exactly the unknown-protocol
 * flows the engine is for. Keep raw reassembly on for each direction the
 * engine still inspects (at most the inspect budget is held), and hand it
 * back as soon as that direction is done. */
static void HoldRawReassembly(Flow *f, EncchanFlowSlot *s)
{
    TcpSession *ssn = f->protoctx;
    if (ssn == NULL)
        return;
    const uint32_t off = STREAMTCP_STREAM_FLAG_DISABLE_RAW | STREAMTCP_STREAM_FLAG_NEW_RAW_DISABLED;
    for (int d = 0; d < 2; d++) {
        TcpStream *stream = d == ENCCHAN_DIR_TO_SERVER ? &ssn->client : &ssn->server;
        uint8_t bit = (uint8_t)(1u << d);
        if (!(s->dirs_done & bit) && !s->failed && !s->finished) {
            if (stream->flags & off) {
                stream->flags &= ~off;
                s->raw_held |= bit;
            }
        } else if (s->raw_held & bit) {
            stream->flags |= STREAMTCP_STREAM_FLAG_DISABLE_RAW;
            s->raw_held &= (uint8_t)~bit;
        }
    }
}

static void Feed(Flow *f, uint8_t dir, const uint8_t *data, uint32_t len, uint64_t ts)
{
    EncchanFlowSlot *s = SlotFor(f, ts);
    if (s == NULL || s->failed || s->finished)
        return;
    if (s->inspection_done || (s->dirs_done & (1u << dir))) {
        /* Count, don't inspect: keeps the byte totals for asymmetry. */
        encchan_flow_account(s->state, g_state_size, dir, len, ts);
        s->end_known = 0;
        return;
    }
    s->end_known = 0;
    AfterFeed(f, s, encchan_flow_feed(g_config, s->state, g_state_size, dir, data, len, ts));
}

/* A direction Suricata stopped reassembling (e.g. SSH after its key
 * exchange, 7.0) before the engine was done with it: the rest of it is a
 * gap, not an end. Told to the engine once, as soon as a closing packet or
 * the flow's end asks for the verdict (no byte of it comes after). */
static void ReportStoppedDirections(Flow *f, EncchanFlowSlot *s)
{
    const TcpSession *ssn = f->proto == IPPROTO_TCP ? f->protoctx : NULL;
    if (ssn == NULL)
        return;
    for (int d = 0; d < 2; d++) {
        const TcpStream *stream = d == ENCCHAN_DIR_TO_SERVER ? &ssn->client : &ssn->server;
        uint8_t bit = (uint8_t)(1u << d);
        if (!(s->dirs_done & bit) && !(s->gapped & bit) && (stream->flags & STREAMTCP_STREAM_FLAG_NOREASSEMBLY)) {
            s->gapped |= bit;
            s->end_known = 0;
            encchan_flow_gap(g_config, s->state, g_state_size, (uint8_t)d, 1, time_us(f->lastts));
        }
    }
}

/* The flow is over: final verdict (handshake timeouts, asymmetry). */
static EncchanFlowSlot *Finish(Flow *f)
{
    EncchanFlowSlot *s = FlowGetStorageById(f, g_storage);
    if (s == NULL || !s->ready || s->failed)
        return NULL;
    if (!s->finished) {
        s->finished = 1;
        ReportStoppedDirections(f, s);
        const TcpSession *ssn = f->proto == IPPROTO_TCP ? f->protoctx : NULL;
        /* Only a direction whose inspection ended needs its sides counted.
         * Both sides' FINs are in the sequence space once the session has
         * closed; before that a direction may be one byte over. */
        bool both_fin = ssn != NULL && ssn->state >= TCP_TIME_WAIT;
        for (int d = 0; ssn != NULL && d < 2; d++) {
            const TcpStream *stream = d == ENCCHAN_DIR_TO_SERVER ? &ssn->client : &ssn->server;
            if (!(s->dirs_done & (1u << d)))
                continue;
            /* Once a direction is done its reassembly may stop, and with it
             * the logger's calls: count the rest from the sequence space
             * (SYN and FIN take one each; < 4 GiB per direction). */
            uint32_t seen = stream->next_seq - stream->isn - 1;
            if (seen > 0 && both_fin)
                seen--;
            /* The engine's count of this side: a read (the verdict it took
             * cost 1.2 M instructions on the 16 MiB mix in Suricata 8). */
            uint64_t counted;
            if (encchan_flow_dir_bytes(s->state, g_state_size, (uint8_t)d, &counted) != 0)
                continue;
            counted += s->gap_bytes[d];
            if (!(ssn->flags & STREAMTCP_FLAG_MIDSTREAM) && seen > counted) {
                encchan_flow_account(s->state, g_state_size, (uint8_t)d, seen - counted, time_us(f->lastts));
                s->end_known = 0;
            }
        }
        if (encchan_flow_finish(g_config, s->state, g_state_size, time_us(f->lastts)) < 0)
            return NULL;
        /* An end verdict of this very state was published: the final one
         * is the same (at its end a flow's alerts depend on its bytes, not
         * on when it ended). */
        EncchanVerdict v;
        if (!s->end_known && encchan_flow_verdict(g_config, s->state, g_state_size, &v) == 0)
            PublishAlerts(f, s, v.final_alerts);
    }
    return s;
}

/* Publishes the verdict the flow would have if it ended now: every alert
 * of it is final. The engine judges it on its own copy of the state. */
static void PublishEndVerdict(Flow *f, EncchanFlowSlot *s)
{
    if (!s->ready || s->failed || s->finished)
        return;
    ReportStoppedDirections(f, s);
    if (s->end_known)
        return;
    EncchanVerdict v;
    if (encchan_flow_verdict_at_end(g_config, s->state, g_state_size, time_us(f->lastts), &v) == 0) {
        PublishAlerts(f, s, v.final_alerts);
        s->end_known = 1;
    }
}

/* ---- payload ---- */

/* Whether the engine has every byte the wire will give this TCP flow, so
 * that its verdict as if the flow ended now is the one it will have at the
 * end (the rules can see it only while packets still come):
 *  - no side sends any more: both FINs are in (TIME_WAIT, LAST_ACK,
 *    CLOSING), or the session is closed (RST), or a stream was delivered to
 *    its end (the session closed, or the flow timed out);
 *  - none of it is still in flight: the streaming logger gives us a
 *    direction's bytes only as the other side acknowledges them, so at the
 *    closing packets a side's last bytes (a handshake's completion riding
 *    with its FIN) may be in Suricata's reassembly and not yet here. Each
 *    direction must have been delivered up to the right edge of what was
 *    reassembled, unless Suricata stopped reassembling it (that rest is a
 *    gap, told to the engine).
 * Measured on the shared captures: publishing at every FIN or RST set 4
 * handshake_incomplete flowbits (each on 7.0 and 8.0) that the flow's end
 * took back, the other side's last bytes arriving after the first FIN. */
static bool NoSideSends(const Flow *f, const EncchanFlowSlot *s)
{
    const TcpSession *ssn = f->proto == IPPROTO_TCP ? f->protoctx : NULL;
    return ssn != NULL && (s->closed || ssn->state == TCP_TIME_WAIT || ssn->state == TCP_LAST_ACK ||
                              ssn->state == TCP_CLOSING || ssn->state == TCP_CLOSED);
}

static bool AllDelivered(const Flow *f, const EncchanFlowSlot *s)
{
    const TcpSession *ssn = f->protoctx;
    for (int d = 0; d < 2; d++) {
        const TcpStream *stream = d == ENCCHAN_DIR_TO_SERVER ? &ssn->client : &ssn->server;
        if ((s->gapped & (1u << d)) || (stream->flags & STREAMTCP_STREAM_FLAG_NOREASSEMBLY))
            continue;
        /* A stream without segments (none yet, or all consumed and
         * pruned) has nothing beyond its base; its segs_right_edge is
         * then unset or stale. */
        uint64_t edge = RB_EMPTY(&stream->seg_tree) ? STREAM_BASE_OFFSET(stream) : STREAM_RIGHT_EDGE(stream);
        if (s->delivered[d] < edge)
            return false;
    }
    return true;
}

static void PublishEndVerdictIfAllIn(Flow *f, EncchanFlowSlot *s)
{
    if (!s->ready || s->failed || s->finished || !NoSideSends(f, s))
        return;
    ReportStoppedDirections(f, s);
    if (AllDelivered(f, s))
        PublishEndVerdict(f, s);
}

/* The stream offset of bytes the streaming logger gave: it passes no
 * offset, but its bytes lie in the stream's reassembly buffer, whose
 * regions know theirs. */
static bool StreamOffsetOf(const TcpStream *stream, const uint8_t *data, uint32_t len, uint64_t *off)
{
    for (const StreamingBufferRegion *r = &stream->sb.region; r != NULL; r = r->next) {
        if (r->buf != NULL && data >= r->buf && len <= r->buf_size && data - r->buf <= (ptrdiff_t)(r->buf_size - len)) {
            *off = r->stream_offset + (uint64_t)(data - r->buf);
            return true;
        }
    }
    return false;
}

/* Feeds the bytes the streaming logger gave, in stream order. Suricata
 * skips a gap (bytes lost before the sensor) without saying so, and gives
 * the bytes after it again on its next call (7.0.10 and 8.0: the log
 * progress moves to the gap's end, not past those bytes): the gap is told
 * to the engine, and bytes given before are not fed twice. Known limit:
 * the logger also hands over bytes beyond a hole that lies past the last
 * ACK (not yet a gap: a retransmission may fill it); they are fed at once
 * and the hole taken for a gap, so a segment lost on the wire behind one
 * the sensor missed is not fed when it comes again (the CLI feeds it). */
static void FeedStream(Flow *f, uint8_t dir, const uint8_t *data, uint32_t len, uint64_t ts)
{
    EncchanFlowSlot *s = SlotFor(f, ts);
    if (s == NULL)
        return;
    const TcpSession *ssn = f->protoctx;
    uint64_t off;
    if (ssn == NULL ||
            !StreamOffsetOf(dir == ENCCHAN_DIR_TO_SERVER ? &ssn->client : &ssn->server, data, len, &off)) {
        s->delivered[dir] += len; /* not in the buffer (never seen): taken as contiguous */
        Feed(f, dir, data, len, ts);
        return;
    }
    if (off + len <= s->delivered[dir])
        return;
    if (off < s->delivered[dir]) {
        uint32_t seen = (uint32_t)(s->delivered[dir] - off);
        data += seen;
        len -= seen;
    } else if (off > s->delivered[dir]) {
        uint64_t missing = off - s->delivered[dir];
        s->gap_bytes[dir] += missing;
        s->end_known = 0;
        if (s->ready && !s->failed && !s->finished) {
            /* A gap settles what waited for more bytes (a sniff window):
             * news as a feed's would be. */
            int rc = encchan_flow_gap(g_config, s->state, g_state_size, dir, missing, ts);
            if (rc == 0 && encchan_flow_inspection_done(s->state, g_state_size) == 1)
                rc = ENCCHAN_FEED_INSPECTION_DONE;
            AfterFeed(f, s, rc < 0 ? rc : rc | ENCCHAN_FEED_NEWS);
        }
    }
    s->delivered[dir] = off + len;
    Feed(f, dir, data, len, ts);
}

static int TcpDataLogger(ThreadVars *tv, void *thread_data, const Flow *cf, const uint8_t *data,
        uint32_t data_len, uint64_t tx_id, uint8_t flags)
{
    (void)tv, (void)thread_data, (void)tx_id;
    Flow *f = (Flow *)cf; /* locked by the caller; storage is ours */
    uint8_t dir = (flags & OUTPUT_STREAMING_FLAG_TOCLIENT) ? ENCCHAN_DIR_TO_CLIENT : ENCCHAN_DIR_TO_SERVER;
    if (data != NULL && data_len > 0)
        FeedStream(f, dir, data, data_len, time_us(f->lastts));
    EncchanFlowSlot *s = FlowGetStorageById(f, g_storage);
    if (s == NULL)
        return 0;
    /* A stream delivered to its end (the session closed, or the pseudo
     * packets Suricata makes when a flow times out): no byte comes after. */
    if (flags & OUTPUT_STREAMING_FLAG_CLOSE)
        s->closed = 1;
    /* The last bytes in flight arrive here, after the closing packets'
     * check: publish once they are in, while packets (the last ACK, the
     * second pseudo packet) can still carry the verdict to the rules. */
    PublishEndVerdictIfAllIn(f, s);
    if (!(flags & OUTPUT_STREAMING_FLAG_CLOSE))
        HoldRawReassembly(f, s);
    return 0;
}

/* 7.0's Packet layout is compiled from the configured 7.0.10 source tree;
 * before trusting it on the real binary, check on the first real packet of
 * each transport that the payload sits right after the header it decoded
 * (UDP: 8 bytes; TCP: the header's own data offset). */
#if ENCCHAN_SURICATA_MAJOR < 8
/* -1 unknown, 0 bad, 1 checked; threads racing here all compute the same
 * answer. */
static atomic_int g_udp_layout_ok = -1;
static atomic_int g_tcp_layout_ok = -1;

static bool LayoutOk(const Packet *p, atomic_int *state, const char *what)
{
    if (atomic_load(state) < 0) {
        bool ok;
        if (p->proto == IPPROTO_UDP) {
            ok = p->udph != NULL && (const uint8_t *)p->udph + UDP_HEADER_LEN == p->payload &&
                 (uint32_t)p->payload_len + UDP_HEADER_LEN <= p->pktlen;
        } else {
            uint32_t hlen = p->tcph != NULL ? (uint32_t)TCP_GET_RAW_OFFSET(p->tcph) * 4u : 0;
            ok = p->tcph != NULL && hlen >= TCP_HEADER_LEN && (const uint8_t *)p->tcph + hlen == p->payload &&
                 (uint32_t)p->payload_len + hlen <= p->pktlen;
        }
        atomic_store(state, ok);
        if (!ok)
            SCLogError("encchan: Packet layout differs from the one this plugin was built for; %s disabled", what);
    }
    return atomic_load(state) == 1;
}
#endif

static bool UdpLayoutOk(const Packet *p)
{
#if ENCCHAN_SURICATA_MAJOR >= 8
    (void)p;
    return true;
#else
    return LayoutOk(p, &g_udp_layout_ok, "UDP");
#endif
}

#if ENCCHAN_SURICATA_MAJOR >= 8
typedef bool ConditionResult;
#else
typedef int ConditionResult;
#endif

/* A FIN or RST ends a stream; the verdict the flow will have at its end is
 * published then, while the closing packets (the other side's FIN, the last
 * ACK) can still carry it to the rules. The packet loggers run after the
 * packet's detection, so this packet's rules do not see it, the next ones
 * do. 7.0 has no closing hook of its own (its streaming logger says
 * "close" only on the session's last packet, after detection): the TCP
 * flags are read from the packet, once the header layout is checked.
 * Pseudo packets (flow timeout) carry no flags of the wire; the streaming
 * logger's close flag covers them. */
static bool IsTcpClose(const Packet *p)
{
#if ENCCHAN_SURICATA_MAJOR >= 8
    return PacketIsTCP(p) && (PacketGetTCP(p)->th_flags & (TH_FIN | TH_RST)) != 0;
#else
    if (p->proto != IPPROTO_TCP || p->tcph == NULL || (p->flags & PKT_PSEUDO_STREAM_END))
        return false;
    return (p->tcph->th_flags & (TH_FIN | TH_RST)) != 0 && LayoutOk(p, &g_tcp_layout_ok, "the closing-packet hook");
#endif
}

static ConditionResult PacketCondition(ThreadVars *tv, void *thread_data, const Packet *p)
{
    (void)tv, (void)thread_data;
    if (p->flow == NULL)
        return false;
    return (p->proto == IPPROTO_UDP && p->payload_len > 0) || IsTcpClose(p);
}

static int PayloadLogger(ThreadVars *tv, void *thread_data, const Packet *p)
{
    (void)tv, (void)thread_data;
    if (p->proto != IPPROTO_UDP) {
        /* A FIN or RST: the end verdict once no side sends any more and
         * nothing is in flight (AllDelivered); else the streaming logger
         * publishes it when the last bytes come. */
        EncchanFlowSlot *s = FlowGetStorageById(p->flow, g_storage);
        if (s != NULL)
            PublishEndVerdictIfAllIn(p->flow, s);
        return 0;
    }
    if (!UdpLayoutOk(p))
        return 0;
    uint8_t dir = (p->flowflags & FLOW_PKT_TOCLIENT) ? ENCCHAN_DIR_TO_CLIENT : ENCCHAN_DIR_TO_SERVER;
    Feed(p->flow, dir, p->payload, p->payload_len, time_us(p->ts));
    return 0;
}

static int FlowEndLogger(ThreadVars *tv, void *thread_data, Flow *f)
{
    (void)tv;
    EncchanFlowSlot *s = Finish(f);
#if ENCCHAN_SURICATA_MAJOR < 8
    if (s != NULL)
        WriteRecord(thread_data, f, s);
#else
    (void)thread_data, (void)s;
#endif
    return 0;
}

/* ---- what both Suricata lines share at Init ---- */

/* The loggers keep no per-thread data: the state is in the flow. */
static TmEcode ThreadInit(ThreadVars *tv, const void *initdata, void **data)
{
    (void)tv, (void)initdata;
    *data = NULL;
    return TM_ECODE_OK;
}

static TmEcode ThreadDeinit(ThreadVars *tv, void *data)
{
    (void)tv, (void)data;
    return TM_ECODE_OK;
}

static bool RegisterStorage(void)
{
    g_storage = FlowStorageRegister("encchan", (unsigned)(sizeof(EncchanFlowSlot) + g_state_size), SlotAlloc, SlotFree);
    if (g_storage.id < 0) {
        SCLogError("encchan: flow storage registration failed");
        return false;
    }
    return true;
}

/* ---- EVE ---- */

/* The verdict's fields come from the engine's one serializer (the NDJSON
 * contract): through Suricata 8's JSON builder, or as JSON text for 7.0's
 * own records. */

#if ENCCHAN_SURICATA_MAJOR >= 8

static void JbOpenObject(void *c, const char *k)
{
    if (k)
        SCJbOpenObject(c, k);
    else
        SCJbStartObject(c);
}
/* The serializer opens arrays only as members (items of arrays are
 * scalars or objects). */
static void JbOpenArray(void *c, const char *k) { SCJbOpenArray(c, k ? k : ""); }
static void JbClose(void *c) { SCJbClose(c); }
static void JbStr(void *c, const char *k, const char *v)
{
    if (k)
        SCJbSetString(c, k, v);
    else
        SCJbAppendString(c, v);
}
static void JbNum(void *c, const char *k, double v)
{
    if (k)
        SCJbSetFloat(c, k, v);
    else
        SCJbAppendFloat(c, v);
}
static void JbUint(void *c, const char *k, uint64_t v)
{
    if (k)
        SCJbSetUint(c, k, v);
    else
        SCJbAppendUint(c, v);
}
/* The serializer writes booleans and nulls only as members, never as array
 * items (the JSON builder has no way to append them). */
static void JbBool(void *c, const char *k, bool v)
{
    if (k)
        SCJbSetBool(c, k, v);
}
static void JbNull(void *c, const char *k)
{
    /* "key":null, built by hand: snprintf was most of this call's cost,
     * and a report has a dozen nulls. Keys are the serializer's own names
     * (no escaping needed), all far shorter than the buffer. */
    char member[96];
    size_t n = k ? strlen(k) : sizeof member;
    if (n + sizeof "\"\":null" > sizeof member)
        return;
    member[0] = '"';
    memcpy(member + 1, k, n);
    memcpy(member + 1 + n, "\":null", sizeof "\":null");
    SCJbSetFormatted(c, member);
}

/* EVE records of a flow the engine has judged get an "encchan" object
 * (of flows with an alert, or of all with `encchan.eve: all`); a flow
 * record (no packet) is the flow's end, so the verdict there is final. */
static void EveCallback(ThreadVars *tv, const Packet *p, Flow *f, SCJsonBuilder *jb, void *user)
{
    (void)tv, (void)user;
    if (f == NULL)
        return;
    EncchanFlowSlot *s = p == NULL ? Finish(f) : FlowGetStorageById(f, g_storage);
    if (s == NULL || !s->ready || s->failed)
        return;
    if ((p != NULL && !s->inspection_done && s->alerts == 0) || !EveWants(s))
        return;
    const EncchanSink sink = { jb, JbOpenObject, JbOpenArray, JbClose, JbStr, JbUint, JbNum, JbBool, JbNull };
    SCJbOpenObject(jb, "encchan");
    encchan_flow_report(g_config, s->state, g_state_size, ENCCHAN_NOW, &sink);
    SCJbClose(jb);
}

/* ---- the `encchan` rule keyword (8.0) ---- */

static int g_keyword_id = -1;

typedef struct EncchanKeyword {
    uint32_t alerts; /* match when any of these is raised; 0 = inspected, no alert */
    bool none;       /* `encchan: none;` */
} EncchanKeyword;

/* Whether the packet's flow has what a keyword asks for: one of `alerts`,
 * or with `none` a decision without any. The rule match and the prefilter
 * engine both ask this. */
static bool FlowHas(const Packet *p, uint32_t alerts, bool none)
{
    if (p->flow == NULL)
        return false;
    const EncchanFlowSlot *s = FlowGetStorageById(p->flow, g_storage);
    if (s == NULL || !s->ready || s->failed)
        return false;
    if (none)
        return s->inspection_done && s->alerts == 0;
    return (s->alerts & alerts) != 0;
}

static int KeywordMatch(DetectEngineThreadCtx *det_ctx, Packet *p, const Signature *sig, const SigMatchCtx *ctx)
{
    (void)det_ctx, (void)sig;
    const EncchanKeyword *k = (const EncchanKeyword *)ctx;
    return FlowHas(p, k->alerts, k->none);
}

static int KeywordSetup(DetectEngineCtx *de_ctx, Signature *sig, const char *arg)
{
    int64_t mask = encchan_suricata_parse_alerts(arg);
    if (mask < 0) {
        /* The names from the engine's table, so the list never lags it. */
        char names[512];
        size_t len = 0;
        names[0] = 0;
        for (uint32_t bit = 0; bit < ENCCHAN_ALERT_COUNT && len < sizeof names; bit++) {
            int n = snprintf(names + len, sizeof names - len, "%s, ", encchan_alert_name(bit));
            if (n < 0)
                break;
            len += (size_t)n;
        }
        SCLogError("encchan: unknown alert in \"%s\" (%sany, none)", arg ? arg : "", names);
        return -1;
    }
    EncchanKeyword *k = SCCalloc(1, sizeof(*k));
    if (k == NULL)
        return -1;
    k->none = mask == 0;
    k->alerts = (uint32_t)mask;
    if (SCSigMatchAppendSMToList(de_ctx, sig, (uint16_t)g_keyword_id, (SigMatchCtx *)k, DETECT_SM_LIST_MATCH) ==
            NULL) {
        SCFree(k);
        return -1;
    }
    sig->flags |= SIG_FLAG_REQUIRE_PACKET;
    return 0;
}

static void KeywordFree(DetectEngineCtx *de_ctx, void *ctx)
{
    (void)de_ctx;
    SCFree(ctx);
}

/* A prefilter engine for the keyword (rules opt in with `prefilter;` after
 * it): one flow-storage lookup per packet adds the signatures whose alerts
 * the flow has, instead of inspecting every encchan signature on every
 * packet (Suricata has no other prefilter for a rule without content). */
static void PrefilterKeywordSet(PrefilterPacketHeaderValue *v, void *smctx)
{
    const EncchanKeyword *k = smctx;
    v->u32[0] = k->alerts;
    v->u32[1] = k->none;
}

static bool PrefilterKeywordCompare(PrefilterPacketHeaderValue v, void *smctx)
{
    const EncchanKeyword *k = smctx;
    return v.u32[0] == k->alerts && v.u32[1] == (uint32_t)k->none;
}

static void PrefilterKeywordMatch(DetectEngineThreadCtx *det_ctx, Packet *p, const void *pectx)
{
    const PrefilterPacketHeaderCtx *ctx = pectx;
    if (FlowHas(p, ctx->v1.u32[0], ctx->v1.u32[1] != 0))
        PrefilterAddSids(&det_ctx->pmq, ctx->sigs_array, ctx->sigs_cnt);
}

static int PrefilterKeywordSetup(DetectEngineCtx *de_ctx, SigGroupHead *sgh)
{
    return PrefilterSetupPacketHeader(de_ctx, sgh, g_keyword_id, SIG_MASK_REQUIRE_FLOW, PrefilterKeywordSet,
            PrefilterKeywordCompare, PrefilterKeywordMatch);
}

static bool PrefilterKeywordSupported(const Signature *sig)
{
    return PrefilterIsPrefilterableById(sig, (enum DetectKeywordId)g_keyword_id);
}

static void KeywordsRegister(void)
{
    g_keyword_id = SCDetectHelperNewKeywordId();
    SigTableElmt *e = &sigmatch_table[g_keyword_id];
    e->name = "encchan";
    e->desc = "match a flow by the alerts of the encchan engine (T1573)";
    e->url = "https://example.invalid/encchan#suricata";
    e->Match = KeywordMatch;
    e->Setup = KeywordSetup;
    e->Free = KeywordFree;
    e->SupportsPrefilter = PrefilterKeywordSupported;
    e->SetupPrefilter = PrefilterKeywordSetup;
}

static void OnLoggingReady(void *arg)
{
    (void)arg;
    SCOutputRegisterStreamingLogger(LOGGER_USER, "encchan-tcp", TcpDataLogger, NULL, STREAMING_TCP_DATA,
            ThreadInit, ThreadDeinit);
    SCOutputRegisterPacketLogger(LOGGER_USER, "encchan-udp", PayloadLogger, PacketCondition, NULL, ThreadInit,
            ThreadDeinit);
    SCOutputRegisterFlowLogger("encchan-flow", FlowEndLogger, NULL, ThreadInit, ThreadDeinit);
    /* 8.0 picks its active root loggers before it calls this back, so a
     * streaming logger registered here alone would never run: pick again
     * (no thread exists yet). */
    OutputClearActiveLoggers();
    OutputSetupActiveLoggers();
}

static void Init(void)
{
    if (!ConfigureEngine() || !RegisterStorage())
        return;
    SCRegisterOnLoggingReady(OnLoggingReady, NULL);
    SCEveRegisterCallback(EveCallback, NULL);
    SCSigTablePreRegister(KeywordsRegister);
    SCLogNotice("encchan: engine ABI %u, %zu bytes per flow", encchan_abi_version(), g_state_size);
}

const SCPlugin PluginRegistration = {
    .version = SC_API_VERSION,
    .suricata_version = SC_PACKAGE_VERSION,
    .name = "encchan",
    .plugin_version = ENCCHAN_PLUGIN_VERSION,
    .license = "MIT OR Apache-2.0",
    .author = "encchan developers",
    .Init = Init,
};

const SCPlugin *SCPluginRegister(void)
{
    return &PluginRegistration;
}

#else /* Suricata 7.0 */

/* ---- 7.0: EVE-format records in <log dir>/encchan.json ---- */

static FILE *g_json;
static pthread_mutex_t g_json_lock = PTHREAD_MUTEX_INITIALIZER;

static void Addr(const Flow *f, bool src, char *out, size_t len)
{
    const FlowAddress *a = src ? &f->src : &f->dst;
    if (FLOW_IS_IPV4(f))
        PrintInet(AF_INET, &a->addr_data32[0], out, len);
    else
        PrintInet(AF_INET6, a->addr_data8, out, len);
}

/* One EVE-format record: the flow's addresses, then the engine's verdict
 * as its serializer writes it. */
static void WriteRecord(void *thread_data, Flow *f, EncchanFlowSlot *s)
{
    (void)thread_data;
    EncchanVerdict v;
    if (g_json == NULL || !EveWants(s) || encchan_flow_verdict(g_config, s->state, g_state_size, &v) != 0)
        return;
    if (v.dirs[0].bytes + v.dirs[1].bytes == 0)
        return;
    char verdict[8192];
    int n = encchan_flow_report_json(g_config, s->state, g_state_size, ENCCHAN_NOW, verdict, sizeof verdict);
    if (n < 0 || (size_t)n >= sizeof verdict)
        return;
    char src[64], dst[64], ts[64];
    bool reversed = (f->flags & FLOW_DIR_REVERSED) != 0;
    Addr(f, !reversed, src, sizeof src);
    Addr(f, reversed, dst, sizeof dst);
    uint16_t sp, dp;
    FlowPorts(f, &sp, &dp);
    CreateIsoTimeString(f->startts, ts, sizeof ts);
    pthread_mutex_lock(&g_json_lock); /* flow end, not the packet path */
    fprintf(g_json,
            "{\"timestamp\":\"%s\",\"flow_id\":%" PRIu64 ",\"event_type\":\"encchan\",\"src_ip\":\"%s\","
            "\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":%u,\"proto\":\"%s\",\"encchan\":%s}\n",
            ts, FlowGetId(f), src, sp, dst, dp, f->proto == IPPROTO_UDP ? "UDP" : "TCP", verdict);
    fflush(g_json);
    pthread_mutex_unlock(&g_json_lock);
}

static OutputInitResult OutputInit(ConfNode *conf)
{
    (void)conf;
    OutputInitResult r = { NULL, false };
    OutputCtx *ctx = SCCalloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return r;
    r.ctx = ctx;
    r.ok = true;
    return r;
}

/* The TCP module's setup also opens encchan.json and adds the flow-end
 * logger (7.0 has no flow output module outside eve-log). */
static OutputInitResult OutputInitTcp(ConfNode *conf)
{
    OutputInitResult r = OutputInit(conf);
    if (!r.ok)
        return r;
    const char *dir = ConfigGetLogDirectory();
    char path[PATH_MAX];
    const char *name = conf ? ConfNodeLookupChildValue(conf, "filename") : NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name ? name : "encchan.json");
    g_json = fopen(path, "a");
    if (g_json == NULL) {
        SCLogError("encchan: cannot open %s: %s", path, strerror(errno));
        r.ok = false;
        return r;
    }
    if (OutputRegisterFlowLogger("encchan-flow", FlowEndLogger, NULL, ThreadInit, ThreadDeinit, NULL) != 0)
        r.ok = false;
    return r;
}

static void Init(void)
{
    if (!ConfigureEngine() || !RegisterStorage())
        return;
    /* Two output modules under one `outputs:` entry, `- encchan:`; each is
     * set up when Suricata initializes its outputs. */
    OutputRegisterStreamingModule(LOGGER_TCP_DATA, "encchan-tcp", "encchan", OutputInitTcp, TcpDataLogger,
            STREAMING_TCP_DATA, ThreadInit, ThreadDeinit, NULL);
    OutputRegisterPacketModule(LOGGER_JSON_STREAM, "encchan-udp", "encchan", OutputInit, PayloadLogger, PacketCondition,
            ThreadInit, ThreadDeinit, NULL);
    SCLogNotice("encchan: engine ABI %u, %zu bytes per flow", encchan_abi_version(), g_state_size);
}

static SCPlugin PluginRegistration = {
    .name = "encchan",
    .license = "MIT OR Apache-2.0",
    .author = "encchan developers",
    .Init = Init,
};

SCPlugin *SCPluginRegister(void)
{
    return &PluginRegistration;
}

#endif
