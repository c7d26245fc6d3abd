/* app.h - what every REST handler gets: the per-process application state,
 * the per-request context, and the helpers handlers share (database handle,
 * session, JSON body, error answers, transactions).
 *
 * Threading: one current wsp_app, read-only once installed; a request
 * borrows it for its whole life and a reload swaps in a new one (reload.h); one
 * wsp_ctx per request, owned by the worker thread that accepted it, with that
 * thread's own database connection.
 */
#ifndef WSP_APP_H
#define WSP_APP_H

#include <stdbool.h>

#include <jansson.h>

#include "conf.h"
#include "db.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "secret.h"
#include "statsrow.h"   /* WSP_SQL_ISO */
#include "token.h"

#define WSP_API_TOKEN_MAX 512

/* The application state: one per configuration read (start, each reload). */
typedef struct wsp_app {
	wsp_config cfg;
	wsp_secret secret;
	char api_token[WSP_API_TOKEN_MAX + 1];  /* "" = no token configured */
	size_t api_token_len;
	char metrics_token[WSP_API_TOKEN_MAX + 1];  /* "" = none (metrics_token_file) */
	size_t metrics_token_len;
	unsigned refs;               /* requests using it (reload.h) */
	bool retired;                /* replaced by a reload: freed with its last request */
} wsp_app;

/* The session of a request after checking cookie and database row. */
typedef struct wsp_session {
	char sid[WSP_SID_LEN + 1];
	char username[WSP_USERNAME_MAX + 1];
	char roles[WSP_ROLES_MAX + 1];        /* "admin,root" (from the session row) */
	long long exp;
} wsp_session;

/* One per request. */
typedef struct wsp_ctx {
	const wsp_app *app;
	wsp_db **db;              /* the worker's connection (may be NULL: connect lazily) */
	wsp_request *req;
	wsp_response *resp;
	wsp_route_match match;
	wsp_read_fn read;         /* body reader */
	void *read_ud;
	int auth_state;           /* 0 not checked, 1 anonymous, 2 logged in */
	wsp_session session;
	struct wsp_pubgroup *pubgroup;   /* the process's group commit of publishes (pubgroup.h) */
} wsp_ctx;

/* Load the secret, the API token file and the metrics token file named in
 * app->cfg (each token file obeys the secret file rules, secret.h).  0 or an error
 * with a one-line message in err. */
int wsp_app_load(wsp_app *app, wsp_error *err);

/* The worker's connection, (re)connected when needed.  NULL with
 * WSP_ERR_DB in err when PostgreSQL is unreachable. */
wsp_db *wsp_ctx_db(wsp_ctx *ctx, wsp_error *err);

/* Who is calling: 1 logged in (ctx->session filled), 0 anonymous (no, bad,
 * expired or revoked cookie), or a negative code (database error in err).
 * The token signature and expiry are checked first, then that the session
 * row exists, is not revoked and has not expired.  Cached per request. */
int wsp_ctx_auth(wsp_ctx *ctx, wsp_error *err);

/* Require a logged-in user with role admin or root.  Returns 1 when allowed;
 * otherwise answers 401 / 403 / 503 itself and returns 0. */
int wsp_ctx_require_admin(wsp_ctx *ctx);

/* Require the API token (Authorization: Bearer, api_token_file) or a
 * logged-in admin/root session.  Returns 1 with *username set ("" for the
 * token), or answers 401 / 403 / 503 itself and returns 0. */
int wsp_ctx_require_admin_or_token(wsp_ctx *ctx, const char **username);

/* For a write route open to anonymous callers: a logged-in caller is always
 * allowed (1); an anonymous one is counted per client address in
 * PostgreSQL (db/006) and allowed up to anon_write_rate writes a minute.
 * Otherwise answers 429 with Retry-After (or 503 when the database is
 * down) itself and returns 0. */
int wsp_ctx_anon_write_allowed(wsp_ctx *ctx);

/* 1 if the session has role admin or root. */
int wsp_session_is_admin(const wsp_session *s);

/* Read and parse the JSON object body.  Returns 0 with a new reference in
 * *out, or answers 415 (not application/json), 413 (over max_body_bytes) or
 * 400 (malformed JSON, not an object) itself and returns -1. */
int wsp_ctx_json_body(wsp_ctx *ctx, json_t **out);
/* The same, also accepting a JSON array when allow_array is set. */
int wsp_ctx_json_body_ex(wsp_ctx *ctx, json_t **out, int allow_array);

/* Answer with an error envelope for this request's path. */
int wsp_ctx_error(wsp_ctx *ctx, int status, const char *message, const char *code);
/* Log a server-side failure of this request at error level.  Database
 * unavailable (WSP_ERR_DB) is logged at most once a second over all
 * threads, with a count of the rest, so an outage is not one line per
 * request. */
void wsp_ctx_log_error(const wsp_ctx *ctx, const wsp_error *err, const char *what);

/* Answer for a wsp_error (status and code by the error mapping); 5xx
 * details are logged (wsp_ctx_log_error), never sent. */
int wsp_ctx_fail(wsp_ctx *ctx, const wsp_error *err, const char *what);

/* Transactions on the worker's connection.  rollback ignores errors (the
 * connection may be gone, which rolls back too). */
int wsp_tx_begin(wsp_db *db, wsp_error *err);
int wsp_tx_commit(wsp_db *db, wsp_error *err);
void wsp_tx_rollback(wsp_db *db);

/* "a,b" -> ["a","b"] (new reference; "" gives []). */
json_t *wsp_roles_json(const char *roles);


#endif
