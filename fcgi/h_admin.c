/* h_admin.c - GET /admin/websocket-stats.shtml (and -status.shtml): the
 * server-rendered stats page for admins.  Not logged in: 302 to the login
 * page with ?next= back here; logged in without admin/root: a 403 page. */
#include "config.h"

#include <string.h>
#include <time.h>

#include "admin_page.h"
#include "app.h"
#include "handlers.h"
#include "html.h"
#include "log.h"
#include "stats_load.h"

static int page(wsp_ctx *ctx, int status, const char *title, const char *msg, const char *href,
		const char *link)
{
	wsp_buf b;
	int rc;

	wsp_buf_init(&b);
	wsp_html_error_page(&b, title, msg, href, link);
	wsp_response_reset(ctx->resp);
	rc = b.oom ? WSP_ERR_NOMEM : wsp_response_html(ctx->resp, status, wsp_buf_str(&b), b.len);
	wsp_buf_cleanup(&b);
	return rc;
}

int wsp_h_admin_page(wsp_ctx *ctx)
{
	const char *path = ctx->match.route->pattern;  /* a constant, never the raw URI */
	wsp_error err;
	json_t *stats;
	wsp_buf b;
	int rc;

	wsp_error_init(&err);
	rc = wsp_ctx_auth(ctx, &err);
	if (rc < 0) {
		wsp_ctx_log_error(ctx, &err, "admin page");
		return page(ctx, 503, "Service unavailable", "The database is not reachable; try again later.",
			    NULL, NULL);
	}
	if (rc == 0) {
		wsp_buf_init(&b);
		wsp_buf_puts(&b, "/login/?next=");
		wsp_buf_puts(&b, path);
		rc = b.oom ? WSP_ERR_NOMEM : wsp_response_redirect(ctx->resp, wsp_buf_str(&b));
		wsp_buf_cleanup(&b);
		return rc;
	}
	if (!wsp_session_is_admin(&ctx->session))
		return page(ctx, 403, "Forbidden", "This page needs the admin or root role.", "/", "Home");
	stats = wsp_stats_load(ctx, &err);
	if (!stats) {
		wsp_ctx_log_error(ctx, &err, "admin page");
		return page(ctx, 503, "Service unavailable", "The database is not reachable; try again later.",
			    NULL, NULL);
	}
	{
		char now[32];
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(stats, "generatedAt", json_string(now));
	}
	wsp_buf_init(&b);
	rc = wsp_admin_page_render(&b, stats, ctx->session.username, path);
	json_decref(stats);
	if (rc == 0)
		rc = wsp_response_html(ctx->resp, 200, wsp_buf_str(&b), b.len);
	wsp_buf_cleanup(&b);
	return rc;
}
