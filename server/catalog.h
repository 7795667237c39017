/* catalog.h — what monasd uses of the common/ library, in one place: the scoring
 * version, proxy validation and directions, MCU profile lookup and the lists served by
 * GET /v1/mcus, /v1/spaces and /v1/proxies. */
#ifndef MN_CATALOG_H
#define MN_CATALOG_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"

#define MN_VERSION_LEN 32

/* Version of the scoring code (proxies + cost model, MN_SCORING_VERSION of scoring.h)
 * that results must carry. */
const char *mn_catalog_scoring_version(void);
/* Reads a scoring_version field (a string, or an integer taken as its decimal text)
 * into out (MN_VERSION_LEN bytes). Missing: MN_EINVAL naming key. */
int mn_catalog_get_version(const cJSON *obj, const char *key, char *out,
                           struct mn_error *err);

/* 1 when larger values of proxy `name` are better, 0 when smaller are, -1 when the
 * name is unknown. */
int mn_catalog_proxy_maximise(const char *name);
/* Validates a job's proxies value (proxy.h: an object of settings or a list of names)
 * against its space, and returns it normalised with every default filled in (*out,
 * caller owns). err->field is relative to the value ("ntk.batch_size"). */
int mn_catalog_proxies(const cJSON *proxies, const char *space, const cJSON *space_settings,
                       cJSON **out, struct mn_error *err);
/* New array describing every proxy for GET /v1/proxies (caller owns), or NULL. */
cJSON *mn_catalog_proxies_describe(void);

/* Resolves a job's mcu field (a built-in profile id string, or an inline profile
 * object) to the full profile JSON (*profile, caller owns), its id, and its SRAM and
 * flash sizes in bytes. */
int mn_catalog_mcu(const cJSON *spec, cJSON **profile, char *id, size_t id_len,
                   double *sram_bytes, double *flash_bytes, struct mn_error *err);

/* New arrays for GET /v1/mcus and GET /v1/spaces (caller owns), or NULL. */
cJSON *mn_catalog_mcus(void);
cJSON *mn_catalog_spaces(void);

#endif
