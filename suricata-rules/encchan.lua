-- encchan for Suricata 7.0 without the plugin: a Lua rule script that runs
-- the engine through LuaJIT's FFI over its C ABI (libencchan.so, built by
-- `cargo build --release -p encchan-ffi`).
--
--   alert ip [$HOME_NET,...] any <> [$EXTERNAL_NET,...] any (msg:"..."; lua:encchan.lua; sid:9573401; ...)
--
-- Needs `security: lua: allow-rules: yes` in suricata.yaml, and the library:
-- ENCCHAN_LIBRARY=/path/to/libencchan.so in Suricata's environment, or
-- libencchan.so on the loader's path. The rule matches once per flow, on the
-- packet where symmetric_only becomes final (the engine's rule for when to
-- publish: see `final_alerts` in include/encchan.h).
--
-- Differences from the plugin (measured in the README): the engine sees
-- packet payloads in arrival order, not the reassembled stream (duplicates
-- and reordering reach it as they come); the flow's engine state travels in
-- a flowvar, copied in and out on every packet until inspection ends; an
-- alert that becomes final only at the flow's end is never seen (Lua rules
-- run on packets only). Only symmetric_only is matched.

local ffi = require("ffi")

ffi.cdef [[
typedef struct EncchanConfig EncchanConfig;
typedef struct EncchanSpan { uint64_t start; uint64_t end; } EncchanSpan;
typedef struct EncchanDirReport {
  uint64_t bytes; uint32_t inspected; bool has_entropy; float entropy;
  float block_shannon; float block_shannon_random; uint32_t collisions;
  float collisions_expected; float printable_fraction;
  uint32_t longest_printable_run; float mean_popcount; uint8_t encoding;
  bool high_entropy; uint32_t full_blocks; uint32_t uniform_blocks;
  uint8_t format; uint64_t inspection_end; uint32_t binary_bytes;
  float binary_entropy; bool binary_high_entropy; bool printable_cover;
  bool explained; EncchanSpan spans[2]; uint8_t broke_protocol;
  uint8_t broke_reason; uint64_t broke_at;
} EncchanDirReport;
typedef struct EncchanEvidence {
  uint8_t high_entropy_direction; bool framing_without_handshake;
  int32_t server_port; bool has_handshake; uint8_t handshake_protocol;
  uint8_t handshake_direction; uint8_t handshake_reason;
  uint64_t handshake_offset; uint64_t handshake_elapsed_us;
  int32_t cipher_suite; float asymmetry_ratio;
} EncchanEvidence;
typedef struct EncchanVerdict {
  uint8_t protocol; uint8_t carrier; uint8_t content; uint32_t alerts;
  uint32_t final_alerts; bool key_exchange_complete; bool inspection_done;
  bool ended; uint16_t tls_version; uint16_t tls_cipher_suite;
  char destination_host[48]; uint16_t destination_port; bool roles_swapped;
  uint64_t first_ts_us; uint64_t last_ts_us;
  EncchanDirReport dirs[2]; EncchanEvidence evidence;
} EncchanVerdict;
uint32_t encchan_abi_version(void);
int encchan_config_new(uint32_t abi_version, EncchanConfig **out);
size_t encchan_state_size(void);
int encchan_flow_init(uint8_t *state, size_t len, uint8_t transport, uint16_t client_port,
                      uint16_t server_port, uint8_t start, uint64_t ts_us);
int encchan_flow_note_address(uint8_t *state, size_t len, const uint8_t *addr, size_t addr_len);
int encchan_flow_feed(const EncchanConfig *cfg, uint8_t *state, size_t len, uint8_t dir,
                      const uint8_t *data, size_t data_len, uint64_t ts_us);
int encchan_flow_verdict(const EncchanConfig *cfg, const uint8_t *state, size_t len,
                         EncchanVerdict *out);
]]

local ABI_VERSION = 4          -- ENCCHAN_ABI_VERSION of include/encchan.h
local ALERT_SYMMETRIC_ONLY = 1 -- ENCCHAN_ALERT_SYMMETRIC_ONLY
local FEED_INSPECTION_DONE = 1 -- ENCCHAN_FEED_INSPECTION_DONE
local FEED_NEWS = 2            -- ENCCHAN_FEED_NEWS

local lib = ffi.load(os.getenv("ENCCHAN_LIBRARY") or "libencchan.so")
assert(lib.encchan_abi_version() == ABI_VERSION, "libencchan.so implements another ABI version")
local cfg_out = ffi.new("EncchanConfig*[1]")
assert(lib.encchan_config_new(ABI_VERSION, cfg_out) == 0)
local cfg = cfg_out[0]
local size = tonumber(lib.encchan_state_size())
-- Per-thread scratch state (each Suricata thread has its own Lua state),
-- 8-aligned as the engine requires. `match` casts it on every call: a cast
-- pointer alone would not keep the array from being garbage-collected.
local scratch = ffi.new("uint64_t[?]", math.ceil(size / 8))
local verdict = ffi.new("EncchanVerdict")

function init(args)
    local needs = {}
    needs["payload"] = tostring(true)
    -- flowvar 0: the engine state; 1: set once the engine has decided.
    needs["flowvar"] = { "encchan.state", "encchan.done" }
    return needs
end

function match(args)
    local payload = args["payload"]
    if payload == nil or #payload == 0 or SCFlowvarGet(1) ~= nil then
        return 0
    end
    local _, fsrc, fdst, proto, fsp, fdp = SCFlowTuple()
    local _, psrc, _, _, psp = SCPacketTuple()
    local dir = (psrc == fsrc and psp == fsp) and 0 or 1
    local sec, usec = SCPacketTimestamp()
    local ts = ffi.cast("uint64_t", sec) * 1000000 + usec

    local state = ffi.cast("uint8_t *", scratch)
    local saved = SCFlowvarGet(0)
    if saved == nil or #saved ~= size then
        local transport = proto == 17 and 1 or 0
        if lib.encchan_flow_init(state, size, transport, fsp, fdp, 0, ts) ~= 0 then
            return 0
        end
        -- The destination's bytes: a broadcast or multicast one makes the
        -- flow an announcement (IPv6: only its first byte matters).
        local a, b, c, d = fdst:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
        if a then
            local v4 = ffi.new("uint8_t[4]", tonumber(a), tonumber(b), tonumber(c), tonumber(d))
            lib.encchan_flow_note_address(state, size, v4, 4)
        else
            -- The first group's high byte: "ff02" -> 0xff, "2a0" -> 0x02.
            local group = fdst:match("^(%x*)") or ""
            local v6 = ffi.new("uint8_t[16]")
            v6[0] = #group > 2 and tonumber(group:sub(1, #group - 2), 16) or 0
            lib.encchan_flow_note_address(state, size, v6, 16)
        end
    else
        ffi.copy(state, saved, size)
    end
    local rc = lib.encchan_flow_feed(cfg, state, size, dir, payload, #payload, ts)
    if rc < 0 then
        SCFlowvarSet(1, "1", 1)
        return 0
    end
    if bit.band(rc, FEED_NEWS) ~= 0 then
        if lib.encchan_flow_verdict(cfg, state, size, verdict) ~= 0 then
            SCFlowvarSet(1, "1", 1)
            return 0
        end
        if bit.band(verdict.final_alerts, ALERT_SYMMETRIC_ONLY) ~= 0 then
            SCFlowvarSet(1, "1", 1)
            return 1
        end
    end
    if bit.band(rc, FEED_INSPECTION_DONE) ~= 0 then
        -- Nothing more to see: judged.
        SCFlowvarSet(1, "1", 1)
        return 0
    end
    SCFlowvarSet(0, ffi.string(state, size), size)
    return 0
end
