/* scoring.h — the single entry point a worker uses to score one candidate: decode the
 * architecture in its space, compute the job's zero-cost proxies (proxy.h) and the MCU
 * cost model's figures (cost.h) for the job's own network, and return them as one JSON
 * object:
 *
 *   {"arch": canonical key, "scoring_version": "2",
 *    "scores": {"ntk": 812.3, "synflow": 1.2e36, ...},
 *    "cost": {"latency_ms", "peak_sram_bytes", "flash_bytes", "macs", "params", "fits"},
 *    "flags": ["ntk:degenerate", ...], "seconds": 0.41, "proxy_seconds": {...}}
 *
 * Numbers are rounded to 9 significant digits (json.h). "fits" is whether the network
 * fits the MCU's SRAM and flash. A degenerate proxy (non-finite value) reports its
 * sentinel (proxy.h) and the flag "<proxy>:degenerate"; the candidate is still scored.
 *
 * Determinism: scores and cost are a pure function of (architecture, space settings,
 * proxy config, MCU profile, seed, MN_SCORING_VERSION); only the "seconds" fields vary.
 * Thread-safe: calls on different threads share nothing. */
#ifndef MN_SCORING_H
#define MN_SCORING_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"
#include "mcu.h"
#include "proxy.h"
#include "space.h"

/* Bumped whenever any score of any architecture could change (proxy definitions,
 * defaults, seeding, engine numerics, cost model). Results carry it; the coordinator
 * refuses results of another version. */
#define MN_SCORING_VERSION "4"

/* Scores architecture a of space sp. mcu may be NULL (no "cost" member); trace may be
 * NULL (proxy.h). Returns a new object the caller owns, or NULL with err set (field
 * relative to the request: "arch...", "proxies.ntk.network.C", ...). */
cJSON *mn_scoring_run(const struct mn_space *sp, const struct mn_arch *a,
                      const struct mn_proxy_config *proxies, const struct mn_mcu *mcu,
                      uint64_t seed, const struct mn_proxy_trace *trace, struct mn_error *err);

/* The same from a lease's parts: space name and settings (NULL = defaults), the
 * architecture's JSON form. Errors name "space", "space.settings.C", "arch...". */
cJSON *mn_scoring_score(const char *space, const cJSON *space_settings, const cJSON *arch,
                        const struct mn_proxy_config *proxies, const struct mn_mcu *mcu,
                        uint64_t seed, struct mn_error *err);

#endif
