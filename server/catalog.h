/* catalog.h — what monasd knows about the common/ library, in one place: the scoring
 * version, the proxy names (and whether larger is better), MCU profile lookup and the
 * lists served by GET /v1/mcus and /v1/spaces. The proxy table here stands in for the
 * proxies module's own until that lands; only this file changes then. */
#ifndef MN_CATALOG_H
#define MN_CATALOG_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"

/* Version of the scoring code (proxies + cost model) results must carry. */
int mn_catalog_scoring_version(void);

/* 1 when larger values of proxy `name` are better, 0 when smaller are, -1 when the
 * name is unknown. */
int mn_catalog_proxy_maximise(const char *name);
/* Validates a job's proxies object {name: settings-object}: known names, object
 * settings. err->field is relative to the object ("ntk"). */
int mn_catalog_check_proxies(const cJSON *proxies, struct mn_error *err);

/* Resolves a job's mcu field (a built-in profile id string, or an inline profile
 * object) to the full profile JSON (*profile, caller owns), its id, and its SRAM and
 * flash sizes in bytes. */
int mn_catalog_mcu(const cJSON *spec, cJSON **profile, char *id, size_t id_len,
                   double *sram_bytes, double *flash_bytes, struct mn_error *err);

/* New arrays for GET /v1/mcus and GET /v1/spaces (caller owns), or NULL. */
cJSON *mn_catalog_mcus(void);
cJSON *mn_catalog_spaces(void);

#endif
