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

int main(void) {
    CHECK(encchan_abi_version() == ENCCHAN_ABI_VERSION);

    EncchanConfig *cfg = NULL;
    CHECK(encchan_config_new(ENCCHAN_ABI_VERSION + 1, &cfg) == ENCCHAN_STATUS_ERR_ABI);
    CHECK(cfg == NULL);
    CHECK(encchan_config_new(ENCCHAN_ABI_VERSION, NULL) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_config_new(ENCCHAN_ABI_VERSION, &cfg) == ENCCHAN_STATUS_OK && cfg != NULL);

    /* Knobs: valid values accepted, invalid ones refused and not applied. */
    CHECK(encchan_config_set_entropy_threshold(cfg, 7.2f) == 0);
    CHECK(encchan_config_set_entropy_threshold(cfg, 9.0f) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_config_set_entropy_threshold(NULL, 7.0f) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_config_set_min_payload(cfg, 32) == 0);
    CHECK(encchan_config_set_inspect_budget(cfg, 4096) == 0);
    CHECK(encchan_config_set_inspect_budget(cfg, 10) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_config_set_handshake_timeout_us(cfg, 5000000) == 0);
    CHECK(encchan_config_set_asymmetry_ratio(cfg, 0.5f) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_config_set_asymmetry_ratio(cfg, 10.0f) == 0);
    CHECK(encchan_config_set_volume_threshold(cfg, 1 << 20) == 0);
    CHECK(encchan_config_set_measure_known_protocols(cfg, true) == 0);
    CHECK(encchan_config_set_measure_known_protocols(cfg, false) == 0);
    CHECK(encchan_config_set_measure_known_protocols(NULL, true) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_config_clear_ports(cfg, ENCCHAN_PORT_CLASS_SSH) == 0);
    CHECK(encchan_config_set_port(cfg, ENCCHAN_PORT_CLASS_SSH, 22, true) == 0);
    CHECK(encchan_config_set_port(cfg, ENCCHAN_PORT_CLASS_TLS, 4444, false) == 0);

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
    CHECK(encchan_flow_dir_decided(mem, size, ENCCHAN_DIR_TO_SERVER) == 0);

    /* A symmetric-only flow: random bytes both ways, no handshake. */
    uint8_t payload[1460];
    fill_random(payload, sizeof payload, 42);
    CHECK(encchan_flow_feed(cfg, mem, size, 2, payload, 10, 1) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, NULL, 10, 1) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_feed(NULL, mem, size, ENCCHAN_DIR_TO_SERVER, payload, 10, 1) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, NULL, 0, 1) == 0);
    int decided = 0;
    for (int i = 0; i < 4; i++) {
        decided |= encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_SERVER, payload, sizeof payload, 2000 + i);
        decided |= encchan_flow_feed(cfg, mem, size, ENCCHAN_DIR_TO_CLIENT, payload, sizeof payload, 2000 + i);
    }
    CHECK(decided == ENCCHAN_FEED_DECIDED);
    CHECK(encchan_flow_is_decided(mem, size) == 1);
    CHECK(encchan_flow_account(mem, size, ENCCHAN_DIR_TO_CLIENT, 100, 3000) == 0);
    CHECK(encchan_flow_gap(cfg, mem, size, ENCCHAN_DIR_TO_CLIENT, 10, 3001) == 0);
    CHECK(encchan_flow_dir_decided(mem, size, ENCCHAN_DIR_TO_SERVER) == 1);
    CHECK(encchan_flow_dir_decided(mem, size, 7) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_flow_dir_decided(NULL, size, ENCCHAN_DIR_TO_SERVER) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_finish(cfg, mem, size, 4000) == 0);

    EncchanVerdict v;
    CHECK(encchan_flow_verdict(cfg, mem, size, NULL) == ENCCHAN_STATUS_ERR_NULL);
    CHECK(encchan_flow_verdict(cfg, mem, size, &v) == 0);
    CHECK(v.alerts & ENCCHAN_ALERT_SYMMETRIC_ONLY);
    CHECK(v.protocol == ENCCHAN_NONE_U8);
    CHECK(strcmp(encchan_content_name(v.content), "encrypted") == 0);
    CHECK(v.dirs[0].bytes == 4 * sizeof payload && v.dirs[1].bytes == 4 * sizeof payload + 100);
    CHECK(v.dirs[0].has_entropy && v.dirs[0].entropy > 7.5f);
    CHECK(v.dirs[0].decided_after == 4096);
    CHECK(!v.dirs[0].explained && v.dirs[0].measured_from == 0 && v.dirs[0].binary_high_entropy);
    CHECK(v.evidence.high_entropy_direction != ENCCHAN_NONE_U8);
    CHECK(v.first_ts_us == 1 && v.last_ts_us == 4000);

    char text[256];
    int need = encchan_evidence_text(&v, 0, text, sizeof text);
    CHECK(need > 0 && (size_t)need < sizeof text && strlen(text) == (size_t)need);
    CHECK(strncmp(text, "direction=", 10) == 0);
    CHECK(encchan_evidence_text(&v, 0, NULL, 0) == need);
    CHECK(encchan_evidence_text(&v, ENCCHAN_ALERT_COUNT, text, sizeof text) == ENCCHAN_STATUS_ERR_ARG);
    CHECK(encchan_evidence_text(NULL, 0, text, sizeof text) == ENCCHAN_STATUS_ERR_NULL);
    printf("verdict: alerts=0x%x content=%s entropy=%.3f/%.3f\n", v.alerts, encchan_content_name(v.content),
           (double)v.dirs[0].entropy, (double)v.dirs[1].entropy);

    CHECK(encchan_flow_clear(mem, size) == 0);
    CHECK(encchan_flow_is_decided(mem, size) == ENCCHAN_STATUS_ERR_STATE);

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
    CHECK(strcmp(encchan_alert_name(ENCCHAN_ALERT_COUNT - 1), "traffic_asymmetry") == 0);
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
