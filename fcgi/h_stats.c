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
	r = wsp_db_query(db,
		"SELECT daemon_id, host, pid, " WSP_SQL_ISO("started_at") ", " WSP_SQL_ISO("updated_at") ","
		" updated_at > now() - $1::int * interval '1 second', stats::text,"
		" floor(extract(epoch FROM now()))::bigint"
		" FROM wsp_daemon_stats ORDER BY daemon_id", 1, p, err);
	if (!r)
		return NULL;
	n = wsp_db_nrows(r);
	rows = json_array();
	for (int i = 0; rows && i < n; i++) {
		json_t *st = json_loads(wsp_db_get(r, i, 6), 0, NULL);

		json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:s, s:s, s:b, s:o?}",
			"id", wsp_db_get(r, i, 0), "host", wsp_db_get(r, i, 1),
			"pid", (json_int_t)atoll(wsp_db_get(r, i, 2)), "startedAt", wsp_db_get(r, i, 3),
			"updatedAt", wsp_db_get(r, i, 4), "up", wsp_db_get(r, i, 5)[0] == 't' && st, "stats", st));
	}
	/* The database clock, the same one updated_at was written with. */
	out = rows ? wsp_stats_merge(rows, n ? atoll(wsp_db_get(r, 0, 7)) : (long long)time(NULL)) : NULL;
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
