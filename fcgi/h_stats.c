/* h_stats.c - GET /api/1/health and GET /api/1/websocket/stats (an admin
 * session or the API token).
 *
 * The stats are the daemons' own snapshots (wsp_daemon_stats, one row per
 * daemon worker) summed by the daemon's own wsp_stats_merge (libwspd), so the
 * REST answer and the live push agree; a row older than three stats_interval
 * periods belongs to a daemon that is down: listed, not summed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "app.h"
#include "handlers.h"
#include "statsrow.h"
#include "daemon/stats.h"
#include "stats_load.h"

int wsp_h_health(wsp_ctx *ctx)
{
	wsp_error err;
	wsp_db *db;

	wsp_error_init(&err);
	db = wsp_ctx_db(ctx, &err);
	if (!db || wsp_db_exec(db, "SELECT 1", 0, NULL, &err) < 0)
		return wsp_ctx_fail(ctx, &err, "health");
	return wsp_response_success(ctx->resp, json_pack("{s:s, s:s, s:s}", "status", "ok", "program",
							 "wspulse.fcgi", "database", "ok"), NULL);
}

json_t *wsp_stats_load(wsp_ctx *ctx, wsp_error *err)
{
	char fresh[24];
	const char *p[1] = { fresh };
	wsp_db_res *r;
	wsp_db *db;
	json_t *rows, *out;
	int n;

	db = wsp_ctx_db(ctx, err);
	if (!db)
		return NULL;
	snprintf(fresh, sizeof(fresh), "%ld", 3 * ctx->app->cfg.stats_interval);
	r = wsp_db_query(db, WSP_STATSROW_SQL_READ, 1, p, err);
	if (!r)
		return NULL;
	n = wsp_db_nrows(r);
	rows = json_array();
	for (int i = 0; rows && i < n; i++) {
		const char *col[WSP_STATSROW_NCOLS];

		for (int k = 0; k < WSP_STATSROW_NCOLS; k++)
			col[k] = wsp_db_get(r, i, k);
		json_array_append_new(rows, wsp_statsrow_json(col));
	}
	/* The database clock, the same one updated_at was written with. */
	out = rows ? wsp_stats_merge(rows, n ? atoll(wsp_db_get(r, 0, WSP_STATSROW_COL_NOW))
					     : (long long)time(NULL)) : NULL;
	json_decref(rows);
	wsp_db_res_free(r);
	if (!out)
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	return out;
}

int wsp_h_ws_stats(wsp_ctx *ctx)
{
	const char *who;
	wsp_error err;
	json_t *stats;

	/* An admin session, or the API token for monitoring scripts. */
	if (!wsp_ctx_require_admin_or_token(ctx, &who))
		return 0;
	wsp_error_init(&err);
	stats = wsp_stats_load(ctx, &err);
	if (!stats)
		return wsp_ctx_fail(ctx, &err, "websocket stats");
	return wsp_response_success(ctx->resp, stats, NULL);
}
