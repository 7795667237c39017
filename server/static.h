/* static.h — the web dashboard's files (server/web/, embedded in mn_server_files at
 * build time) served at `/` and `/assets/...`: content type by extension, an ETag from
 * the contents with If-None-Match → 304, and Cache-Control: no-cache so a browser
 * revalidates (cheaply) and never runs stale code after an upgrade. Public: the page
 * must load before a bearer token can be typed into it. */
#ifndef MN_STATIC_H
#define MN_STATIC_H
#include "http.h"

/* GET / — server/web/index.html. */
void mn_static_index(struct mn_http_req *rq, struct mn_http_resp *rs);
/* GET /assets/{file} — server/web/{file}. */
void mn_static_asset(struct mn_http_req *rq, struct mn_http_resp *rs);
/* GET /assets/vendor/{file} — server/web/vendor/{file} (third-party libraries). */
void mn_static_vendor(struct mn_http_req *rq, struct mn_http_resp *rs);

#endif
