/* app.c - see app.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "cidr.h"
#include "response.h"
#include "log.h"
#include "validate.h"

/* Read the first line of a token file into buf (at least 16 characters). */
static int load_token(const char *path, const char *what, char *buf, size_t *len, wsp_error *err)
{
	FILE *f;
	struct stat st;
	size_t n;

	buf[0] = '\0';
	*len = 0;
	if (!path[0])
		return 0;
	f = fopen(path, "r");
	if (!f)
		return wsp_error_set(err, WSP_ERR_IO, "%s: cannot open %s: %s", path, what, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || wsp_secret_check_stat(&st, path, what, err) < 0) {
		fclose(f);
		return err && err->code ? err->code : WSP_ERR_IO;
	}
	n = fread(buf, 1, WSP_API_TOKEN_MAX, f);
	fclose(f);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n < 16)
		return wsp_error_set(err, WSP_ERR_INVALID, "%s: the %s token must be at least 16 characters",
				     path, what);
	*len = n;
	return 0;
}

int wsp_app_load(wsp_app *app, wsp_error *err)
{
	int rc;

	if (wsp_secret_load(&app->secret, app->cfg.secret_file, err) < 0)
		return err ? err->code : WSP_ERR_IO;
	/* `unix` (a unix-socket peer, which wspulsed may trust) is accepted in
	 * the shared key; it never matches a REMOTE_ADDR. */
	for (int i = 0; i < app->cfg.trusted_proxies.n; i++)
		if (!wsp_cidr_valid(app->cfg.trusted_proxies.v[i]))
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "trusted_proxies: '%.64s' is not an IP address, a CIDR block or 'unix'",
					     app->cfg.trusted_proxies.v[i]);
	if (app->cfg.cookie_domain[0] && !wsp_cookie_domain_ok(app->cfg.cookie_domain))
		return wsp_error_set(err, WSP_ERR_INVALID,
				     "cookie_domain '%s' is not a host name (e.g. .example.com)", app->cfg.cookie_domain);
	rc = load_token(app->cfg.api_token_file, "api_token_file", app->api_token, &app->api_token_len, err);
	if (rc < 0)
		return rc;
	return load_token(app->cfg.metrics_token_file, "metrics_token_file", app->metrics_token,
			  &app->metrics_token_len, err);
}

wsp_db *wsp_ctx_db(wsp_ctx *ctx, wsp_error *err)
{
	wsp_error e;

	if (*ctx->db && !wsp_db_ok(*ctx->db)) {
		/* The reset inside wsp_db_ok failed: start afresh next time. */
		wsp_db_close(*ctx->db);
		*ctx->db = NULL;
	}
	if (!*ctx->db) {
		wsp_error_init(&e);
		*ctx->db = wsp_db_connect(ctx->app->cfg.database, &e);
		if (!*ctx->db) {
			wsp_error_set(err, WSP_ERR_DB, "%s", e.text);
			return NULL;
		}
	}
	return *ctx->db;
}

int wsp_session_is_admin(const wsp_session *s)
{
	return wsp_roles_has(s->roles, "admin") || wsp_roles_has(s->roles, "root");
}

int wsp_ctx_auth(wsp_ctx *ctx, wsp_error *err)
{
	const char *cookie;
	const char *params[1];
	wsp_token tok;
	wsp_db_res *r;
	wsp_db *db;
	size_t len;

	if (ctx->auth_state)
		return ctx->auth_state == 2;
	ctx->auth_state = 1;
	cookie = wsp_request_cookie(ctx->req, WSP_SESSION_COOKIE, &len);
	if (!cookie || wsp_token_verify(&ctx->app->secret, cookie, len, (long long)time(NULL), &tok) < 0)
		return 0;
	db = wsp_ctx_db(ctx, err);
	if (!db) {
		ctx->auth_state = 0;
		return WSP_ERR_DB;
	}
	params[0] = tok.sid;
	r = wsp_db_query(db, "SELECT username, array_to_string(roles, ',') FROM wsp_sessions"
			     " WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()",
			 1, params, err);
	if (!r) {
		ctx->auth_state = 0;
		return err && err->code ? err->code : WSP_ERR_DB;
	}
	if (wsp_db_nrows(r) == 1 && strlen(wsp_db_get(r, 0, 1)) > WSP_ROLES_MAX) {
		/* Never cut (a cut list can end in another role's prefix):
		 * login refuses such roles, so this row was written by hand. */
		wsp_warn(NULL, "session %.8s...: its roles are over %d bytes; treated as no session", tok.sid,
			 WSP_ROLES_MAX);
	} else if (wsp_db_nrows(r) == 1 && strcmp(wsp_db_get(r, 0, 0), tok.username) == 0) {
		memcpy(ctx->session.sid, tok.sid, sizeof(ctx->session.sid));
		snprintf(ctx->session.username, sizeof(ctx->session.username), "%s", tok.username);
		snprintf(ctx->session.roles, sizeof(ctx->session.roles), "%s", wsp_db_get(r, 0, 1));
		ctx->session.exp = tok.exp;
		ctx->auth_state = 2;
	}
	wsp_db_res_free(r);
	return ctx->auth_state == 2;
}

int wsp_ctx_require_admin(wsp_ctx *ctx)
{
	wsp_error err;
	int rc;

	wsp_error_init(&err);
	rc = wsp_ctx_auth(ctx, &err);
	if (rc < 0) {
		wsp_ctx_fail(ctx, &err, "session check");
		return 0;
	}
	if (rc == 0) {
		wsp_ctx_error(ctx, 401, "Authentication required", "UNAUTHORIZED");
		return 0;
	}
	if (!wsp_session_is_admin(&ctx->session)) {
		wsp_ctx_error(ctx, 403, "Admin role required", "FORBIDDEN");
		return 0;
	}
	return 1;
}

int wsp_ctx_require_admin_or_token(wsp_ctx *ctx, const char **username)
{
	size_t len;
	const char *tok = wsp_bearer_token(ctx->req->authorization, &len);
	wsp_error err;
	int rc;

	if (tok) {
		if (ctx->app->api_token_len &&
		    wsp_ct_equal(tok, len, ctx->app->api_token, ctx->app->api_token_len)) {
			*username = "";
			return 1;
		}
		wsp_ctx_error(ctx, 401, "Invalid API token", "UNAUTHORIZED");
		return 0;
	}
	wsp_error_init(&err);
	rc = wsp_ctx_auth(ctx, &err);
	if (rc < 0) {
		wsp_ctx_fail(ctx, &err, "admin or token check");
		return 0;
	}
	if (rc == 0) {
		wsp_ctx_error(ctx, 401, "Authentication required (admin session or API token)", "UNAUTHORIZED");
		return 0;
	}
	if (!wsp_session_is_admin(&ctx->session)) {
		wsp_ctx_error(ctx, 403, "Admin role required", "FORBIDDEN");
		return 0;
	}
	*username = ctx->session.username;
	return 1;
}

/* anon_write_rate counts writes in windows of this many seconds. */
#define ANON_WRITE_PERIOD "60"

int wsp_ctx_anon_write_allowed(wsp_ctx *ctx)
{
	char limit[24], wait_s[24];
	const char *p[3] = { ctx->req->limit_key, limit, ANON_WRITE_PERIOD };
	wsp_error err;
	wsp_db_res *r;
	wsp_db *db;
	long wait;
	int rc;

	wsp_error_init(&err);
	rc = wsp_ctx_auth(ctx, &err);
	if (rc == 1)
		return 1;
	db = rc < 0 ? NULL : wsp_ctx_db(ctx, &err);
	snprintf(limit, sizeof(limit), "%ld", ctx->app->cfg.anon_write_rate);
	r = db ? wsp_db_query(db, "SELECT wsp_rest_write_take($1, $2::int, $3::int)", 3, p, &err) : NULL;
	if (!r) {
		wsp_ctx_fail(ctx, &err, "anonymous write limit");
		return 0;
	}
	wait = atol(wsp_db_get(r, 0, 0));
	wsp_db_res_free(r);
	if (wait <= 0)
		return 1;
	wsp_info(NULL, "%s %s from %s: over anon_write_rate, 429 for %ld s", ctx->req->method, ctx->req->path,
		 ctx->req->client_addr, wait);
	wsp_response_reset(ctx->resp);
	snprintf(wait_s, sizeof(wait_s), "%ld", wait);
	wsp_response_header(ctx->resp, "Retry-After", wait_s);
	wsp_response_error(ctx->resp, 429, "Too many changes from this address, try again later",
			   "TOO_MANY_REQUESTS", ctx->req->path, json_pack("{s:I}", "retryAfter", (json_int_t)wait));
	return 0;
}

int wsp_ctx_error(wsp_ctx *ctx, int status, const char *message, const char *code)
{
	wsp_response_reset(ctx->resp);
	return wsp_response_error(ctx->resp, status, message, code, ctx->req->path, NULL);
}

/* While PostgreSQL is down every request fails the same way: log the first
 * such failure of each second, and how many more there were, not one line
 * per request (all worker threads share the limit). */
static pthread_mutex_t db_down_lock = PTHREAD_MUTEX_INITIALIZER;
static wsp_log_limit db_down_limit;

static int db_down_log_ok(const wsp_error *err)
{
	int ok;

	if (err->code != WSP_ERR_DB)
		return 1;
	pthread_mutex_lock(&db_down_lock);
	ok = wsp_log_limit_ok(&db_down_limit, 1, WSP_LOG_ERROR, "requests failed: database unavailable");
	pthread_mutex_unlock(&db_down_lock);
	return ok;
}

void wsp_ctx_log_error(const wsp_ctx *ctx, const wsp_error *err, const char *what)
{
	if (db_down_log_ok(err))
		wsp_err(NULL, "%s %s: %s: %s", ctx->req->method, ctx->req->path, what, err->text);
}

int wsp_ctx_fail(wsp_ctx *ctx, const wsp_error *err, const char *what)
{
	int status = wsp_error_http_status(err->code ? err->code : WSP_ERR_INTERNAL);

	if (status >= 500)
		wsp_ctx_log_error(ctx, err, what);
	wsp_response_reset(ctx->resp);
	return wsp_response_from_error(ctx->resp, err, ctx->req->path);
}

int wsp_ctx_json_body(wsp_ctx *ctx, json_t **out)
{
	return wsp_ctx_json_body_ex(ctx, out, 0);
}

int wsp_ctx_json_body_ex(wsp_ctx *ctx, json_t **out, int allow_array)
{
	wsp_error err;
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	if (!wsp_content_type_is_json(ctx->req->content_type)) {
		wsp_ctx_error(ctx, 415, "Content-Type must be application/json", "UNSUPPORTED_MEDIA_TYPE");
		return -1;
	}
	wsp_error_init(&err);
	if (wsp_request_read_body(ctx->req, ctx->read, ctx->read_ud, ctx->app->cfg.max_body_bytes, &err) < 0) {
		if (err.code == WSP_ERR_TOOBIG)
			wsp_ctx_error(ctx, 413, err.text, "PAYLOAD_TOO_LARGE");
		else
			wsp_ctx_fail(ctx, &err, "reading the body");
		return -1;
	}
	j = json_loadb(ctx->req->body, ctx->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		char msg[300];

		snprintf(msg, sizeof(msg), "Malformed JSON: %s", jerr.text);
		wsp_ctx_error(ctx, 400, msg, "INVALID_JSON");
		return -1;
	}
	if (!json_is_object(j) && !(allow_array && json_is_array(j))) {
		json_decref(j);
		wsp_ctx_error(ctx, 400, allow_array ? "The request body must be a JSON object or array"
						    : "The request body must be a JSON object", "INVALID_JSON");
		return -1;
	}
	*out = j;
	return 0;
}

int wsp_tx_begin(wsp_db *db, wsp_error *err) { return wsp_db_exec(db, "BEGIN", 0, NULL, err); }
int wsp_tx_commit(wsp_db *db, wsp_error *err) { return wsp_db_exec(db, "COMMIT", 0, NULL, err); }
void wsp_tx_rollback(wsp_db *db) { wsp_db_exec(db, "ROLLBACK", 0, NULL, NULL); }

json_t *wsp_roles_json(const char *roles)
{
	json_t *a = json_array();

	while (a && roles && *roles) {
		size_t n = strcspn(roles, ",");

		if (n)
			json_array_append_new(a, json_stringn(roles, n));
		roles += n;
		if (*roles == ',')
			roles++;
	}
	return a;
}
