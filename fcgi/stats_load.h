/* stats_load.h - read every daemon's snapshot row and sum them (shared by the
 * stats API and the admin page). */
#ifndef WSP_STATS_LOAD_H
#define WSP_STATS_LOAD_H

#include <jansson.h>

#include "app.h"

/* The summed getStats() JSON (new reference) or NULL with err set. */
json_t *wsp_stats_load(wsp_ctx *ctx, wsp_error *err);

#endif
