/* Exercises every function of include/encchan.h from C, with good and bad
 * arguments. Built with -Wall -Wextra -Werror against the header and linked
 * with the static library by tests/c_abi.rs. Prints one line per check and
 * exits non-zero on the first failure. */
#include "encchan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
            return 1;                                                            \
        }                                                                        \
    } while (0)

static void fill_random(uint8_t *buf, size_t len, uint64_t seed) {
    uint64_t x = seed | 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)(x >> 24);
    }
}

/* A sink that counts what the serializer writes. */
struct Count {
    int open, closed, values;
};
static void count_open(void *c, const char *k) { (void)k; ((struct Count *)c)->open++; }
static void count_close(void *c) { ((struct Count *)c)->closed++; }
static void count_string(void *c, const char *k, const char *v) { (void)k, (void)v; ((struct Count *)c)->values++; }
static void count_uint(void *c, const char *k, uint64_t v) { (void)k, (void)v; ((struct Count *)c)->values++; }
static void count_number(void *c, const char *k, double v) { (void)k, (void)v; ((struct Count *)c)->values++; }
static void count_bool(void *c, const char *k, bool v) { (void)k, (void)v; ((struct Count *)c)->values++; }
static void count_null(void *c, const char *k) { (void)k; ((struct Count *)c)->values++; }

int main(void) {
    CHECK(encchan_abi_version() == ENCCHAN_ABI_VERSION);

    EncchanConfig *cfg = NULL;
    CHECK(encchan_config_new(ENCCHAN_ABI_VERSION + 1, &cfg) == ENCCHAN_STATUS_ERR_ABI);
    CHECK(cfg == NULL);
    CHECK(encchan_config_new(ENCCHAN_ABI_VERSION, NULL) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_config_new(ENCCHAN_ABI_VERSION, &cfg) == ENCCHAN_STATUS_OK && cfg != NULL);

    /* Knobs by name: valid values accepted, invalid ones refused with a
     * message and not applied. */
    char err[256];
    CHECK(encchan_config_set(cfg, "entropy_threshold", "7.2", err, sizeof err) == 0);
    CHECK(encchan_config_set(cfg, "entropy_threshold", "9", err, sizeof err) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(strcmp(err, "entropy_threshold must be in (0, 8] bits per byte") == 0);
    CHECK(encchan_config_set(cfg, "min_payload", "lots", err, sizeof err) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(strcmp(err, "min_payload: expected a whole number of bytes") == 0);
    CHECK(encchan_config_set(NULL, "entropy_threshold", "7", NULL, 0) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_config_set(cfg, "inspect_budget", "10", err, sizeof err) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_config_set(cfg, "handshake_timeout", "5", NULL, 0) == 0);
    CHECK(encchan_config_set(cfg, "asymmetry_ratio", "0.5", NULL, 0) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_config_set(cfg, "measure_known_protocols", "yes", NULL, 0) == 0);
    CHECK(encchan_config_set(cfg, "measure_known_protocols", "false", NULL, 0) == 0);
    CHECK(encchan_config_set(cfg, "ports.ssh", "22, 2222", NULL, 0) == 0);
    CHECK(encchan_config_set(cfg, "no_such_knob", "1", err, sizeof err) == ENCCHAN_STATUS_ERR_ARG);
    char value[64];
    CHECK(encchan_config_get(cfg, "handshake_timeout", value, sizeof value) == 3 && strcmp(value, "5.0") == 0);
    CHECK(encchan_config_get(cfg, "ports.ssh", value, sizeof value) > 0 && strcmp(value, "22, 2222") == 0);
    CHECK(encchan_knob_count() >= 10);
    for (uint32_t i = 0; i < encchan_knob_count(); i++) {
        CHECK(strlen(encchan_knob_name(i)) > 0 && strlen(encchan_knob_zeek_option(i)) > 0);
        CHECK(encchan_config_get(cfg, encchan_knob_name(i), value, sizeof value) > 0);
    }
    CHECK(strcmp(encchan_knob_name(encchan_knob_count()), "") == 0);

    /* State memory: size, alignment, and refusals. */
    size_t size = encchan_state_size(), align = encchan_state_align();
    CHECK(size > 0 && size <= 512 && align > 0 && (align & (align - 1)) == 0);
    uint8_t *mem = aligned_alloc(align, (size + align - 1) / align * align + align);
    CHECK(mem != NULL);
    memset(mem, 0xAB, size);
    CHECK(encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, (const uint8_t *)"x", 1, 0) == ENCCHAN_STATUS_ERR_STATE);
    CHECK(encchan_flow_init(mem, size - 1, ENCCHAN_TRANSPORT_TCP, 40000, 4444, ENCCHAN_START_OBSERVED, 0) == ENCCHAN_STATUS_ERR_SIZE);
    CHECK(encchan_flow_init(mem + 1, size, ENCCHAN_TRANSPORT_TCP, 40000, 4444, ENCCHAN_START_OBSERVED, 0) == ENCCHAN_STATUS_ERR_ALIGN);
    CHECK(encchan_flow_init(NULL, size, ENCCHAN_TRANSPORT_TCP, 40000, 4444, ENCCHAN_START_OBSERVED, 0) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_init(mem, size, 9, 40000, 4444, ENCCHAN_START_OBSERVED, 0) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_init(mem, size, ENCCHAN_TRANSPORT_TCP, 40000, 4444, 7, 0) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_init(mem, size, ENCCHAN_TRANSPORT_TCP, 40000, 4444, ENCCHAN_START_OBSERVED, 1000) == 0);
    CHECK(encchan_flow_dir_inspection_done(mem, size, ENCCHAN_DIR_TO_SERVER) == 0);

    /* A symmetric-only flow: random bytes both ways, no handshake. */
    uint8_t payload[1460];
    fill_random(payload, sizeof payload, 42);
    CHECK(encchan_flow_feed(cfg, mem, size, 2, payload, 10, 1) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, NULL, 10, 1) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_feed(NULL, mem, size, ENCCHAN_DIR_TO_SERVER, payload, 10, 1) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, NULL, 0, 1) == 0);
    int fed = 0;
    for (int i = 0; i < 4; i++) {
        fed |= encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, payload, sizeof payload, 2000 + i);
        fed |= encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_CLIENT, payload, sizeof payload, 2000 + i);
    }
    CHECK(fed == (ENCCHAN_FEED_INSPECTION_DONE | ENCCHAN_FEED_NEWS));
    CHECK(encchan_flow_inspection_done(mem, size) == 1);

    /* Inspection is done: symmetric_only is final and would be published
     * now; as if the flow ended at 3500, handshake-free, the same. */
    EncchanVerdict v;
    CHECK(encchan_flow_verdict(cfg, mem, size, &v) == 0);
    CHECK((v.alerts & ENCCHAN_ALERT_SYMMETRIC_ONLY) && (v.final_alerts & ENCCHAN_ALERT_SYMMETRIC_ONLY) && !v.ended);
    CHECK(encchan_flow_verdict_at_end(cfg, mem, size, 3500, &v) == 0);
    CHECK(v.ended && v.final_alerts == v.alerts && v.last_ts_us == 3500);
    CHECK(encchan_flow_verdict(cfg, mem, size, &v) == 0 && !v.ended && v.last_ts_us == 2003);
    CHECK(encchan_flow_account(mem, size, ENCCHAN_DIR_TO_CLIENT, 100, 3000) == 0);
    CHECK(encchan_flow_gap(cfg, mem, size, ENCCHAN_DIR_TO_CLIENT, 10, 3001) == 0);
    CHECK(encchan_flow_dir_inspection_done(mem, size, ENCCHAN_DIR_TO_SERVER) == 1);
    CHECK(encchan_flow_dir_inspection_done(mem, size, 7) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_dir_inspection_done(NULL, size, ENCCHAN_DIR_TO_SERVER) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_finish(cfg, mem, size, 4000) == 0);

    CHECK(encchan_flow_verdict(cfg, mem, size, NULL) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_verdict(cfg, mem, size, &v) == 0);
    CHECK(v.alerts & ENCCHAN_ALERT_SYMMETRIC_ONLY);
    CHECK(v.protocol == ENCCHAN_NONE_U8);
    CHECK(strcmp(encchan_content_name(v.content), "encrypted") == 0);
    CHECK(v.dirs[0].bytes == 4 * sizeof payload && v.dirs[1].bytes == 4 * sizeof payload + 100);
    uint64_t side[2] = { 0, 0 };
    CHECK(encchan_flow_dir_bytes(mem, size, ENCCHAN_DIR_TO_SERVER, &side[0]) == 0 &&
          encchan_flow_dir_bytes(mem, size, ENCCHAN_DIR_TO_CLIENT, &side[1]) == 0);
    CHECK(side[0] == v.dirs[0].bytes && side[1] == v.dirs[1].bytes);
    CHECK(encchan_flow_dir_bytes(mem, size, 2, &side[0]) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_dir_bytes(mem, size, ENCCHAN_DIR_TO_SERVER, NULL) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_dir_bytes(NULL, size, ENCCHAN_DIR_TO_SERVER, &side[0]) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(v.dirs[0].has_entropy && v.dirs[0].entropy > 7.5f);
    CHECK(v.dirs[0].inspection_end == 4096 && v.ended);
    CHECK(!v.dirs[0].explained && v.dirs[0].spans[0].start == 0 && v.dirs[0].spans[0].end == 4096);
    CHECK(v.dirs[0].spans[1].start == ENCCHAN_NONE_U64 && v.dirs[0].binary_high_entropy);
    CHECK(v.carrier == ENCCHAN_NONE_U8 && v.dirs[0].broke_protocol == ENCCHAN_NONE_U8);
    CHECK(v.evidence.high_entropy_direction != ENCCHAN_NONE_U8);
    CHECK(v.first_ts_us == 1 && v.last_ts_us == 4000);

    /* The one serializer: evidence text, JSON, callbacks. */
    char text[1024];
    int need = encchan_flow_evidence_text(cfg, mem, size, ENCCHAN_NOW, 0, text, sizeof text);
    CHECK(need > 0 && (size_t)need < sizeof text && strlen(text) == (size_t)need);
    CHECK(strncmp(text, "direction=", 10) == 0);
    CHECK(encchan_flow_evidence_text(cfg, mem, size, ENCCHAN_NOW, 0, NULL, 0) == need);
    CHECK(encchan_flow_evidence_text(cfg, mem, size, ENCCHAN_NOW, ENCCHAN_ALERT_COUNT, text, sizeof text) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_evidence_text(NULL, mem, size, ENCCHAN_NOW, 0, text, sizeof text) == ENCCHAN_STATUS_ERR_NULL);
    char json[4096];
    need = encchan_flow_report_json(cfg, mem, size, ENCCHAN_NOW, json, sizeof json);
    CHECK(need > 0 && (size_t)need < sizeof json && json[0] == '{' && json[need - 1] == '}');
    CHECK(strstr(json, "\"alerts\":[\"symmetric_only\"]") != NULL);
    struct Count counted = { 0, 0, 0 };
    EncchanSink sink = { &counted, count_open, count_open, count_close, count_string, count_uint, count_number,
                         count_bool, count_null };
    CHECK(encchan_flow_report(cfg, mem, size, ENCCHAN_NOW, &sink) == 0);
    CHECK(counted.open == counted.closed && counted.open > 5 && counted.values > 20);
    sink.null = NULL;
    CHECK(encchan_flow_report(cfg, mem, size, ENCCHAN_NOW, &sink) == ENCCHAN_STATUS_ERR_NULL);
    printf("verdict: alerts=0x%x content=%s entropy=%.3f/%.3f\n", v.alerts, encchan_content_name(v.content),
           (double)v.dirs[0].entropy, (double)v.dirs[1].entropy);

    CHECK(v.destination_host[0] == '\0' && v.destination_port == 0);
    CHECK(encchan_flow_clear(mem, size) == 0);
    CHECK(encchan_flow_inspection_done(mem, size) == ENCCHAN_STATUS_ERR_STATE);

    /* A SOCKS5 request names the tunnel's destination. */
    static const uint8_t socks5[] = "\x05\x01\x00\x05\x01\x00\x03\x0b" "example.com" "\x01\xbb";
    CHECK(encchan_flow_init(mem, size, ENCCHAN_TRANSPORT_TCP, 40000, 1080, ENCCHAN_START_OBSERVED, 0) == 0);
    CHECK(encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, socks5, sizeof socks5 - 1, 1) >= 0);
    CHECK(encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, payload, 200, 2) >= 0);
    CHECK(encchan_flow_verdict(cfg, mem, size, &v) == 0);
    CHECK(strcmp(encchan_protocol_name(v.carrier), "socks5") == 0);
    CHECK(strcmp(v.destination_host, "example.com") == 0 && v.destination_port == 443);
    CHECK(!v.roles_swapped);
    CHECK(encchan_flow_clear(mem, size) == 0);

    /* Random bytes to a subnet's broadcast address: an announcement, not a
     * channel; the same bytes to a peer are symmetric_only. */
    static const uint8_t broadcast[4] = {192, 168, 1, 255}, peer[4] = {192, 168, 1, 20};
    for (int group = 0; group < 2; group++) {
        CHECK(encchan_flow_init(mem, size, ENCCHAN_TRANSPORT_UDP, 40000, 9999, ENCCHAN_START_OBSERVED, 0) == 0);
        CHECK(encchan_flow_note_address(mem, size, group ? broadcast : peer, 4) == 0);
        for (int i = 0; i < 4; i++)
            CHECK(encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, payload + 300 * i, 300, 1 + i) >= 0);
        CHECK(encchan_flow_finish(cfg, mem, size, 10) == 0);
        CHECK(encchan_flow_verdict(cfg, mem, size, &v) == 0);
        CHECK(((v.alerts & ENCCHAN_ALERT_SYMMETRIC_ONLY) != 0) == !group);
    }
    CHECK(encchan_flow_note_address(mem, size, peer, 5) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_note_address(mem, size, NULL, 4) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_clear(mem, size) == 0);

    /* Script helpers. */
    EncchanDirReport stats;
    CHECK(encchan_byte_stats(payload, sizeof payload, 7.0f, &stats) == 0);
    CHECK(stats.high_entropy && stats.inspected == sizeof payload);
    CHECK(encchan_byte_stats(payload, sizeof payload, 0.0f, &stats) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_byte_stats(NULL, 5, 7.0f, &stats) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_entropy(payload, sizeof payload) > 7.5);
    CHECK(encchan_entropy(NULL, 3) < 0);
    CHECK(encchan_shannon_entropy(payload, sizeof payload) > 7.8);
    CHECK(encchan_shannon_entropy((const uint8_t *)"aaaa", 4) == 0.0);
    static const uint8_t hello[] = {22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3};
    CHECK(encchan_looks_like_tls(hello, sizeof hello));
    CHECK(!encchan_looks_like_tls(payload, 16));
    CHECK(!encchan_looks_like_tls(NULL, 16));

    /* Names. */
    CHECK(strcmp(encchan_alert_name(0), "symmetric_only") == 0);
    CHECK(strcmp(encchan_alert_name(ENCCHAN_ALERT_COUNT - 1), "dns_encoded_payload") == 0);
    CHECK(strcmp(encchan_alert_name(99), "") == 0);
    CHECK(strcmp(encchan_protocol_name(1), "tls") == 0);
    CHECK(strcmp(encchan_protocol_name(ENCCHAN_NONE_U8), "") == 0);
    CHECK(strcmp(encchan_format_name(1), "gzip") == 0);
    CHECK(strcmp(encchan_reason_name(1), "bad_record_type") == 0);
    CHECK(strcmp(encchan_encoding_name(1), "base64") == 0);
    CHECK(strcmp(encchan_strerror(ENCCHAN_STATUS_ERR_ABI), "ok") != 0);

    free(mem);
    encchan_config_free(cfg);
    encchan_config_free(NULL);
    printf("%d checks passed\n", checks);
    return 0;
}
