/* h_metrics.c - GET /api/1/websocket/metrics: Prometheus text format for every daemon
 * and worker sharing the database.
 *
 * Served by the REST side, not by each daemon: the daemons' workers share
 * one listening socket, so a scrape of the daemon would reach one worker at
 * random; every worker writes its counters into its stats row instead
 * (daemon/metrics.h), and one scrape here reads them all.  The values are
 * at most stats_interval old (wspulse_stats_age_seconds says how old).  It
 * lives under /api/1/websocket/, which every shipped nginx/Apache snippet
 * (and README's mod_fcgid lines) already sends to wspulse.fcgi.
 *
 * Access: a client address in `metrics_allow` (default loopback only), or
 * `Authorization: Bearer <token of metrics_token_file>` from anywhere.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "app.h"
#include "cidr.h"
#include "daemon/metrics.h"
#include "handlers.h"
#include "statsrow.h"
#include "log.h"
#include "validate.h"

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* 1 to serve, or 0 after answering 401/403. */
static int allowed(wsp_ctx *ctx)
{
	const wsp_config *cfg = &ctx->app->cfg;
	size_t len;
	const char *tok = wsp_bearer_token(ctx->req->authorization, &len);

	if (tok) {
		if (ctx->app->metrics_token_len &&
		    wsp_ct_equal(tok, len, ctx->app->metrics_token, ctx->app->metrics_token_len))
			return 1;
		wsp_ctx_error(ctx, 401, "Invalid metrics token", "UNAUTHORIZED");
		return 0;
	}
	if (wsp_cidr_match_any(ctx->req->client_addr, cfg->metrics_allow.n ? cfg->metrics_allow.v : wsp_cidr_loopback))
		return 1;
	wsp_info(NULL, "metrics: %s is not in metrics_allow and sent no token", ctx->req->client_addr);
	wsp_ctx_error(ctx, 403, "Not allowed: an address in metrics_allow or a metrics token is required",
		      "FORBIDDEN");
	return 0;
}

int wsp_h_metrics(wsp_ctx *ctx)
{
	char fresh[24];
	const char *p[1] = { fresh };
	wsp_db_res *r, *newest;
	wsp_error err;
	wsp_db *db;
	json_t *rows;
	char *text;
	int n, rc;

	if (!allowed(ctx))
		return 0;
	wsp_error_init(&err);
	db = wsp_ctx_db(ctx, &err);
	if (!db)
		return wsp_ctx_fail(ctx, &err, "metrics");
	snprintf(fresh, sizeof(fresh), "%ld", 3 * ctx->app->cfg.stats_interval);
	r = wsp_db_query(db, WSP_STATSROW_SQL_READ, 1, p, &err);
	if (!r)
		return wsp_ctx_fail(ctx, &err, "metrics");
	newest = wsp_db_query(db, "SELECT coalesce(max(id), 0) FROM wsp_outbox", 0, NULL, &err);
	if (!newest) {
		wsp_db_res_free(r);
		return wsp_ctx_fail(ctx, &err, "metrics");
	}
	n = wsp_db_nrows(r);
	rows = json_array();
	for (int i = 0; rows && i < n; i++) {
		const char *col[WSP_STATSROW_NCOLS];

		for (int k = 0; k < WSP_STATSROW_NCOLS; k++)
			col[k] = wsp_db_get(r, i, k);
		json_array_append_new(rows, wsp_statsrow_json(col));
	}
	text = rows ? wsp_metrics_render(rows, atoll(wsp_db_get(newest, 0, 0))) : NULL;
	json_decref(rows);
	wsp_db_res_free(r);
	wsp_db_res_free(newest);
	if (!text) {
		wsp_error_set(&err, WSP_ERR_NOMEM, "out of memory");
		return wsp_ctx_fail(ctx, &err, "metrics");
	}
	rc = wsp_response_text(ctx->resp, 200, PROM_TYPE, text, strlen(text));
	wsp_free(text);
	return rc;
}
