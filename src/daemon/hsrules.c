/* hsrules.c - see hsrules.h. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "daemon/access.h"
#include "daemon/hsrules.h"
#include "daemon/query.h"

static void refuse(wsp_handshake *hs, int status, enum wsp_refusal refusal, const char *why)
{
	hs->status = status;
	hs->refusal = refusal;
	hs->why = why;
}

/* The connection token (conntoken.h): the `token` query parameter, else
 * `Authorization: Bearer`.  Returns 0 without one, 1 with a verified user in
 * hs->user, or -1 refused: 401 when it does not verify or the daemon has no
 * token_secret_file (a token is never silently ignored), 403 when its ns
 * claim does not cover the namespace.  What exactly failed goes to
 * hs->detail for the log; the token itself is never logged. */
static int token_user(const wsp_hs_env *env, const wsp_upgrade_req *req, const char *ns_path,
		      wsp_handshake *hs)
{
	char tok[WSP_CONNTOKEN_MAX + 2];
	const char *t = NULL;
	size_t tl = 0;
	wsp_conntoken ct;
	wsp_error err;
	int rc;

	rc = wsp_query_get(req->query, "token", tok, sizeof(tok));
	if (rc >= 0) {
		t = tok;
		tl = (size_t)rc;
	} else if (rc == -1 && req->authorization) {
		if (strncasecmp(req->authorization, "Bearer ", 7) != 0)
			return 0;   /* another scheme: not ours */
		t = req->authorization + 7;
		while (*t == ' ')
			t++;
		tl = strcspn(t, " \t\r\n");
	} else if (rc == -1 && !req->authorization_sent) {
		return 0;
	}
	/* Here t is the token, or NULL for one present but unreadable (a
	 * malformed %-escape, or longer than any token may be). */
	refuse(hs, 401, WSP_REFUSED_UNAUTHORIZED, "unauthorized");
	if (!env->token_key) {
		snprintf(hs->detail, sizeof(hs->detail), "connection token given, but token_secret_file is not set");
		return -1;
	}
	wsp_error_init(&err);
	if (!t) {
		snprintf(hs->detail, sizeof(hs->detail), "connection token unreadable (too long or not Bearer)");
		return -1;
	}
	if (wsp_conntoken_verify(env->token_key, t, tl, env->now_s, &ct, &err) < 0) {
		snprintf(hs->detail, sizeof(hs->detail), "%s", err.text);
		return -1;
	}
	if (!wsp_conntoken_allows(&ct, ns_path)) {
		refuse(hs, 403, WSP_REFUSED_ROLE, "forbidden");
		snprintf(hs->detail, sizeof(hs->detail), "token of %s: namespace not in its ns claim", ct.sub);
		return -1;
	}
	refuse(hs, 0, WSP_REFUSED_OTHER, NULL);
	snprintf(hs->user.name, sizeof(hs->user.name), "%s", ct.sub);
	snprintf(hs->user.roles, sizeof(hs->user.roles), "%s", ct.roles);
	hs->user.sid[0] = '\0';
	hs->user.exp = ct.exp;
	hs->user.token = true;
	return 1;
}

/* The user a trusted front server names (trusted_proxy_auth): believed only
 * from a peer in trusted_proxies; from any other peer the headers are
 * ignored and hs->note says so for the log.  Returns 1 with hs->user set, 0
 * (no such header, or ignored), or -1 with 401 for a malformed value. */
static int proxy_user(const wsp_hs_env *env, const wsp_upgrade_req *req, wsp_handshake *hs)
{
	const wsp_config *cfg = env->cfg;
	const char *peer = req->peer ? req->peer : "";
	const char *u = req->proxy_user, *r = req->proxy_roles;

	if (!req->proxy_user_sent && !req->proxy_roles_sent)
		return 0;
	if (!cfg->trusted_proxy_auth || !wsp_cidr_match_any(peer, cfg->trusted_proxies.v)) {
		snprintf(hs->note, sizeof(hs->note), "X-Wspulse-User/-Roles from %s ignored (%s)",
			 *peer ? peer : "a unix socket",
			 cfg->trusted_proxy_auth ? "not in trusted_proxies" : "trusted_proxy_auth is off");
		return 0;
	}
	if (!req->proxy_user_sent || !u || !*u)
		return 0;   /* the front server found no session: an anonymous client */
	if (!wsp_conntoken_name_ok(u, WSP_USERNAME_MAX) || (req->proxy_roles_sent && !r)) {
		refuse(hs, 401, WSP_REFUSED_UNAUTHORIZED, "unauthorized");
		snprintf(hs->detail, sizeof(hs->detail), "X-Wspulse-User or X-Wspulse-Roles from %s malformed",
			 *peer ? peer : "a unix socket");
		return -1;
	}
	snprintf(hs->user.name, sizeof(hs->user.name), "%s", u);
	snprintf(hs->user.roles, sizeof(hs->user.roles), "%s", r ? r : "");
	hs->user.sid[0] = '\0';
	hs->user.exp = LLONG_MAX;   /* the front server's session; it checks every upgrade */
	hs->user.token = false;
	return 1;
}

/* The session cookie: verified by signature alone (a page that has just
 * logged in is never refused for a row the daemon has not seen yet);
 * revocations arrive over NOTIFY and are kept in env->revoked. */
static void cookie_user(const wsp_hs_env *env, const wsp_upgrade_req *req, wsp_handshake *hs)
{
	size_t vl;
	const char *v = req->cookie ? wsp_cookie_find(req->cookie, WSP_SESSION_COOKIE, &vl) : NULL;
	wsp_token t;

	if (!v || wsp_token_verify(env->secret, v, vl, env->now_s, &t) < 0 ||
	    (env->revoked && wsp_strmap_get(env->revoked, t.sid)))
		return;
	hs->has_user = true;
	snprintf(hs->user.name, sizeof(hs->user.name), "%s", t.username);
	snprintf(hs->user.roles, sizeof(hs->user.roles), "%s", t.roles);
	snprintf(hs->user.sid, sizeof(hs->user.sid), "%s", t.sid);
	hs->user.exp = t.exp;
}

void wsp_hs_decide(const wsp_hs_env *env, const wsp_upgrade_req *req, wsp_handshake *hs)
{
	const wsp_config *cfg = env->cfg;
	wsp_ns_rules rules = { NULL, false, NULL };
	char val[128];
	long *count;
	int tu;

	memset(hs, 0, sizeof(*hs));
	hs->refusal = WSP_REFUSED_OTHER;
	hs->since = -1;
	/* Client address (per-address limit, and the log line of every
	 * refusal, the first ones too): the proxy's headers only from
	 * trusted_proxies. */
	wsp_client_ip(req->peer ? req->peer : "", req->x_real_ip, req->x_forwarded_for,
		      cfg->trusted_proxies.v, hs->ip, sizeof(hs->ip));
	/* lws would drop such a request without an answer (and nginx count
	 * that against the daemon): answer it. */
	if (req->ws_key_bad) {
		refuse(hs, 400, WSP_REFUSED_OTHER, "bad Sec-WebSocket-Key");
		return;
	}
	if (!req->path || !(hs->ns = env->find_ns(env->arg, req->path, strlen(req->path), &rules))) {
		refuse(hs, 404, WSP_REFUSED_UNKNOWN_NAMESPACE, "unknown namespace");
		return;
	}
	if (env->stopping) {
		refuse(hs, 503, WSP_REFUSED_SHUTTING_DOWN, "shutting down");
		return;
	}
	if (!wsp_origin_allowed(req->origin, req->host, cfg->allowed_origins.v, cfg->allowed_origins.n)) {
		refuse(hs, 403, WSP_REFUSED_ORIGIN, "origin not allowed");
		return;
	}
	if (env->nclients >= cfg->max_connections) {
		refuse(hs, 503, WSP_REFUSED_CAPACITY, "too many connections");
		return;
	}
	count = env->per_ip ? wsp_strmap_get(env->per_ip, hs->ip) : NULL;
	if (count && *count >= cfg->max_connections_per_ip) {
		refuse(hs, 429, WSP_REFUSED_PER_ADDRESS, "too many connections from this address");
		return;
	}
	/* A connection token names the user (and wins over a cookie sent
	 * along); one that does not verify refuses the upgrade. */
	tu = token_user(env, req, rules.path ? rules.path : req->path, hs);
	if (tu == 0)
		tu = proxy_user(env, req, hs);
	if (tu < 0)
		return;
	hs->has_user = tu == 1;
	if (!hs->has_user)
		cookie_user(env, req, hs);
	if (rules.require_auth && !hs->has_user) {
		refuse(hs, 401, WSP_REFUSED_UNAUTHORIZED, "not logged in");
		return;
	}
	if (rules.roles && rules.roles[0]) {
		bool ok = false;

		for (int i = 0; rules.roles[i] && !ok; i++)
			ok = wsp_roles_has(hs->user.roles, rules.roles[i]);
		if (!ok) {
			refuse(hs, 403, WSP_REFUSED_ROLE, "role missing");
			return;
		}
	}
	if (wsp_query_get(req->query, "uuid", val, sizeof(val)) < 0 || !wsp_uuid_parse(val, strlen(val), hs->id))
		hs->id[0] = '\0';
	if (wsp_query_get(req->query, "since", val, sizeof(val)) >= 0 && wsp_query_id(val, &hs->since) < 0)
		hs->since = -1;
}
