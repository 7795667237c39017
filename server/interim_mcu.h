/* interim_mcu.h — TEMPORARY: the MCU profile API the cost work is landing in
 * common/mcu.h, declared here so the server builds before it does. Deleted (and
 * catalog.c switched to "mcu.h") when common/mcu.h is on main. */
#ifndef MN_INTERIM_MCU_H
#define MN_INTERIM_MCU_H
#include <cjson/cJSON.h>
#include "error.h"

struct mn_mcu;
struct mn_mcu *mn_mcu_builtin(const char *id, struct mn_error *err);
struct mn_mcu *mn_mcu_from_json(const cJSON *j, struct mn_error *err);
cJSON *mn_mcu_to_json(const struct mn_mcu *m);
cJSON *mn_mcu_list_json(void);
const char *mn_mcu_id(const struct mn_mcu *m);
void mn_mcu_free(struct mn_mcu *m);

#endif
