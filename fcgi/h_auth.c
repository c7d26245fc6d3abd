/* h_auth.c - POST /api/1/auth/login, POST /api/1/auth/logout, GET /api/1/auth/me.
 *
 * Logout, like every write, needs Content-Type: application/json (the CSRF
 * proof: no HTML form can send it); the body may be empty or "{}".
 *
 * Login verifies a yescrypt hash (a dummy hash for unknown users, so both
 * cases cost the same and answer the same), is limited per (client address,
 * user name) and per client address by the functions of
 * db/005_login_throttle.sql (an attempt is counted before its password is
 * checked; a correct one gives it back), and always creates a fresh session
 * row and id (a cookie sent with the login is revoked, never reused).
 * Passwords and tokens are never logged.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handlers.h"
#include "log.h"
#include "password.h"
#include "validate.h"

static void set_session_cookie(wsp_ctx *ctx, const char *value, long max_age)
{
	/* cookie_domain: the login also reaches wspulsed on another host of
	 * the site (direct mode); logout clears the same cookie. */
	wsp_cookie c = { WSP_SESSION_COOKIE, value, max_age, ctx->req->secure, ctx->app->cfg.cookie_domain };

	wsp_response_cookie(ctx->resp, &c);
}

/* Revoke one session row; the trigger tells every daemon. */
static int revoke(wsp_db *db, const char *sid, wsp_error *err)
{
	const char *p[1] = { sid };

	return wsp_db_exec(db, "UPDATE wsp_sessions SET revoked_at = now(), revoke_reason = 'logout'"
			       " WHERE id = $1 AND revoked_at IS NULL", 1, p, err);
}

/* An address may try this many times login_max_failures (over all user
 * names) before it is slowed down as a whole. */
#define WSP_LOGIN_ADDRESS_FACTOR 10

static void login_limits(const wsp_ctx *ctx, char max[24], char addr_max[24], char window[24])
{
	snprintf(max, 24, "%ld", ctx->app->cfg.login_max_failures);
	snprintf(addr_max, 24, "%ld", ctx->app->cfg.login_max_failures * WSP_LOGIN_ADDRESS_FACTOR);
	snprintf(window, 24, "%ld", ctx->app->cfg.login_window);
}

/* Count this attempt before the password is checked (db/005: one locked
 * statement per key, so concurrent attempts cannot overtake the limit).
 * Returns 0 to go ahead, the seconds to wait, or a negative code. */
static long login_begin(wsp_ctx *ctx, wsp_db *db, const char *user, wsp_error *err)
{
	char max[24], addr_max[24], window[24];
	const char *p[5] = { ctx->req->limit_key, user, max, addr_max, window };
	wsp_db_res *r;
	long wait;

	login_limits(ctx, max, addr_max, window);
	r = wsp_db_query(db, "SELECT wsp_login_begin($1, $2, $3::int, $4::int, $5::int)", 5, p, err);
	if (!r)
		return err->code;
	wait = atol(wsp_db_get(r, 0, 0));
	wsp_db_res_free(r);
	return wait;
}

int wsp_h_login(wsp_ctx *ctx)
{
	json_t *body, *ju, *jp;
	const char *user, *pass, *hash;
	char *verified = NULL;     /* the hash the password matched */
	long roles_len = 0;
	char stored_user[WSP_USERNAME_MAX + 1], sid[WSP_SID_LEN + 1], token[WSP_TOKEN_MAX];
	char ttl[24], roles[16];
	wsp_error err;
	wsp_db *db;
	wsp_db_res *r = NULL;
	wsp_token t;
	long wait;
	int found, ok, rc;

	if (wsp_ctx_json_body(ctx, &body) < 0)
		return 0;
	ju = json_object_get(body, "username");
	jp = json_object_get(body, "password");
	if (!json_is_string(ju) || !json_is_string(jp) || !json_string_length(ju) ||
	    !json_string_length(jp) || strlen(json_string_value(jp)) != json_string_length(jp)) {
		json_decref(body);
		return wsp_ctx_error(ctx, 400, "Username and password are required", "VALIDATION_ERROR");
	}
	user = json_string_value(ju);
	pass = json_string_value(jp);
	/* A name that cannot exist is an unknown user; failures are counted
	 * under a placeholder so the column stays short, valid text. */
	snprintf(stored_user, sizeof(stored_user), "%s", wsp_valid_username(user) ? user : "(invalid)");
	wsp_error_init(&err);
	db = wsp_ctx_db(ctx, &err);
	if (!db)
		goto fail;
	wait = login_begin(ctx, db, stored_user, &err);
	if (wait < 0)
		goto fail;
	if (wait > 0) {
		char ra[24];

		json_decref(body);
		wsp_info(NULL, "login refused for '%s' from %s: too many failures", stored_user,
			 ctx->req->client_addr);
		wsp_response_reset(ctx->resp);
		snprintf(ra, sizeof(ra), "%ld", wait);
		wsp_response_header(ctx->resp, "Retry-After", ra);
		return wsp_response_error(ctx->resp, 429, "Too many failed logins, try again later",
					  "TOO_MANY_REQUESTS", ctx->req->path,
					  json_pack("{s:I}", "retryAfter", (json_int_t)wait));
	}
	{
		const char *p[1] = { stored_user };

		r = wsp_db_query(db, "SELECT password_hash, octet_length(array_to_string(roles, ',')) FROM wsp_users"
				 " WHERE username = $1", 1, p, &err);
		if (!r)
			goto fail;
	}
	found = wsp_valid_username(user) && wsp_db_nrows(r) == 1;
	hash = found ? wsp_db_get(r, 0, 0) : wsp_password_dummy_hash();
	ok = wsp_password_verify(pass, hash) && found;
	if (ok) {
		roles_len = atol(wsp_db_get(r, 0, 1));
		verified = strdup(hash);
		if (!verified) {
			wsp_error_set(&err, WSP_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	wsp_db_res_free(r);
	r = NULL;
	if (!ok) {
		char window[24];
		const char *pw[1] = { window };

		/* The attempt counted in login_begin stays counted.  Keys older
		 * than the window are dropped, so the table holds one window's
		 * worth however long it runs. */
		snprintf(window, sizeof(window), "%ld", ctx->app->cfg.login_window);
		wsp_db_exec(db, "SELECT wsp_login_prune($1::int)", 1, pw, NULL);
		wsp_info(NULL, "login failed for '%s' from %s", stored_user, ctx->req->client_addr);
		json_decref(body);
		return wsp_ctx_error(ctx, 401, "Invalid username or password", "INVALID_CREDENTIALS");
	}
	if (roles_len > WSP_ROLES_MAX) {
		/* A session carries its roles whole or not at all: a list cut to
		 * fit could end in another role's prefix ("...,admin"). */
		char msg[128];

		wsp_warn(NULL, "login '%s' refused: its roles take %ld bytes, over the %d a session holds", stored_user,
			 roles_len, WSP_ROLES_MAX);
		snprintf(msg, sizeof(msg), "This user's roles take %ld bytes, more than a session holds (%d)", roles_len,
			 WSP_ROLES_MAX);
		free(verified);
		json_decref(body);
		return wsp_ctx_error(ctx, 403, msg, "FORBIDDEN");
	}
	/* No session fixation: a session presented with the login ends here. */
	rc = wsp_ctx_auth(ctx, &err);
	if (rc < 0)
		goto fail;
	if (rc == 1 && revoke(db, ctx->session.sid, &err) < 0)
		goto fail;
	if (wsp_random_hex(sid, WSP_SID_LEN / 2) < 0) {
		wsp_error_set(&err, WSP_ERR_INTERNAL, "no random bytes");
		goto fail;
	}
	snprintf(ttl, sizeof(ttl), "%ld", ctx->app->cfg.session_ttl);
	{
		const char *p[6] = { sid, stored_user, ctx->req->client_addr, ttl, verified, roles };

		/* Roles come from the user row in the same statement, and only
		 * while it still holds the hash the password matched: a password
		 * change, a role change or a deletion committed since the check
		 * finds no row.  FOR SHARE keeps one that is not committed yet
		 * waiting until this session is: its trigger (004) then revokes
		 * it.  Without both, a login in flight across `user passwd` kept
		 * a live session made with the old password. */
		snprintf(roles, sizeof(roles), "%d", WSP_ROLES_MAX);
		r = wsp_db_query(db,
			"INSERT INTO wsp_sessions (id, username, roles, address, expires_at)"
			" SELECT $1, username, roles, $3, now() + $4::int * interval '1 second'"
			" FROM wsp_users WHERE username = $2 AND password_hash = $5"
			" AND octet_length(array_to_string(roles, ',')) <= $6::int FOR SHARE"
			" RETURNING array_to_string(roles, ','), floor(extract(epoch FROM expires_at))::bigint, "
			WSP_SQL_ISO("expires_at"), 6, p, &err);
		if (!r)
			goto fail;
	}
	free(verified);
	verified = NULL;
	if (wsp_db_nrows(r) != 1) {
		/* The user was deleted, or its password or roles changed,
		 * between the check and now. */
		wsp_db_res_free(r);
		json_decref(body);
		return wsp_ctx_error(ctx, 401, "Invalid username or password", "INVALID_CREDENTIALS");
	}
	memset(&t, 0, sizeof(t));
	memcpy(t.sid, sid, sizeof(t.sid));
	snprintf(t.username, sizeof(t.username), "%s", stored_user);
	snprintf(t.roles, sizeof(t.roles), "%s", wsp_db_get(r, 0, 0));
	t.exp = atoll(wsp_db_get(r, 0, 1));
	if (wsp_token_sign(&ctx->app->secret, &t, token, sizeof(token)) < 0) {
		wsp_db_res_free(r);
		r = NULL;
		wsp_error_set(&err, WSP_ERR_INTERNAL, "cannot sign the session token");
		goto fail;
	}
	{
		char max[24], addr_max[24], window[24];
		const char *p[3] = { ctx->req->limit_key, stored_user, addr_max };

		login_limits(ctx, max, addr_max, window);
		wsp_db_exec(db, "SELECT wsp_login_succeeded($1, $2, $3::int)", 3, p, NULL);
	}
	wsp_info(NULL, "login '%s' from %s (session %.8s...)", stored_user, ctx->req->client_addr, sid);
	wsp_response_reset(ctx->resp);
	set_session_cookie(ctx, token, ctx->app->cfg.session_ttl);
	wsp_response_success(ctx->resp,
			     json_pack("{s:s, s:o, s:s}", "username", t.username, "roles",
				       wsp_roles_json(t.roles), "expiresAt", wsp_db_get(r, 0, 2)),
			     json_pack("{s:s}", "message", "Logged in"));
	wsp_db_res_free(r);
	json_decref(body);
	return 0;
fail:
	free(verified);
	json_decref(body);
	wsp_db_res_free(r);
	return wsp_ctx_fail(ctx, &err, "login");
}

int wsp_h_logout(wsp_ctx *ctx)
{
	wsp_error err;
	wsp_db *db;
	int rc;

	/* Logging out changes state, so it carries the proof every other write
	 * carries: Content-Type: application/json.  No HTML form (cross-site or
	 * same-site) can send it, and a cross-origin script needs a CORS
	 * preflight for it, which wspulse.fcgi never grants.  Without it the
	 * session stays as it is. */
	if (!wsp_content_type_is_json(ctx->req->content_type))
		return wsp_ctx_error(ctx, 415, "Content-Type must be application/json", "UNSUPPORTED_MEDIA_TYPE");
	wsp_error_init(&err);
	rc = wsp_ctx_auth(ctx, &err);
	if (rc < 0)
		return wsp_ctx_fail(ctx, &err, "logout");
	if (rc == 1) {
		db = wsp_ctx_db(ctx, &err);
		if (!db || revoke(db, ctx->session.sid, &err) < 0)
			return wsp_ctx_fail(ctx, &err, "logout");
		wsp_info(NULL, "logout '%s' (session %.8s...)", ctx->session.username, ctx->session.sid);
	}
	wsp_response_reset(ctx->resp);
	set_session_cookie(ctx, "", 0);
	return wsp_response_success(ctx->resp, json_pack("{s:b}", "loggedOut", rc == 1),
				    json_pack("{s:s}", "message", "Logged out"));
}

int wsp_h_me(wsp_ctx *ctx)
{
	wsp_error err;
	int rc;

	wsp_error_init(&err);
	rc = wsp_ctx_auth(ctx, &err);
	if (rc < 0)
		return wsp_ctx_fail(ctx, &err, "auth/me");
	if (rc == 0)
		return wsp_ctx_error(ctx, 401, "Not logged in", "UNAUTHORIZED");
	return wsp_response_success(ctx->resp,
				    json_pack("{s:s, s:o}", "username", ctx->session.username, "roles",
					      wsp_roles_json(ctx->session.roles)),
				    NULL);
}
