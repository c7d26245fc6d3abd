/* handshake.c - see handshake.h. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "conntoken.h"
#include "daemon/access.h"
#include "daemon/clock.h"
#include "daemon/frameguard.h"
#include "daemon/handshake.h"
#include "daemon/query.h"
#include "log.h"


/* Copy a header into buf; NULL when absent or too long. */
static const char *hdr(struct lws *wsi, enum lws_token_indexes t, char *buf, int len)
{
	int n = lws_hdr_total_length(wsi, t);

	if (n <= 0 || n >= len || lws_hdr_copy(wsi, buf, len, t) < 0)
		return NULL;
	return buf;
}

/* X-Real-IP.  lws knows this header (it is in its lexical table when built
 * with LWS_WITH_HTTP_UNCOMMON_HEADERS, as Debian's is), and a known header
 * never reaches the custom-header list, so asking lws_hdr_custom_copy() for
 * it finds nothing; only a build without the token stores it as custom. */
static const char *real_ip_hdr(struct lws *wsi, char *buf, int len)
{
#if defined(LWS_WITH_HTTP_UNCOMMON_HEADERS) || defined(LWS_HTTP_HEADERS_ALL)
	return hdr(wsi, WSI_TOKEN_HTTP_X_REAL_IP, buf, len);
#else
	static const char name[] = "x-real-ip:";
	int n = lws_hdr_custom_length(wsi, name, (int)sizeof(name) - 1);

	if (n <= 0 || n >= len || lws_hdr_custom_copy(wsi, buf, len, name, (int)sizeof(name) - 1) < 0)
		return NULL;
	return buf;
#endif
}

/* The query string, re-joined with '&' from lws's fragments (a fragment
 * may be a whole connection token). */
#define QS_MAX (WSP_CONNTOKEN_MAX + 1200)
static void query_string(struct lws *wsi, char *out, size_t outsz)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < 16; i++) {
		char frag[QS_MAX];
		int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);

		if (n <= 0)
			break;
		if (o + (size_t)n + 2 >= outsz)
			break;
		if (o)
			out[o++] = '&';
		memcpy(out + o, frag, (size_t)n);
		o += (size_t)n;
		out[o] = '\0';
	}
}

/* The connection token of the upgrade (conntoken.h): the `token` query
 * parameter, else `Authorization: Bearer`.  Returns 0 without one, 1 with a
 * verified user in hs->user, or -1 with hs->status set: 401 when it does
 * not verify or this daemon has no token_secret_file (a token is never
 * silently ignored), 403 when its ns claim does not cover the namespace.
 * What exactly failed goes to hs->detail for the log; the token itself is
 * never logged. */
static int token_user(wsp_server *srv, struct lws *wsi, const char *qs, wsp_handshake *hs)
{
	static char tok[WSP_CONNTOKEN_MAX + 2];
	char authz[WSP_CONNTOKEN_MAX + 16];
	const char *t = NULL;
	size_t tl = 0;
	wsp_conntoken ct;
	wsp_error err;
	int rc;

	rc = wsp_query_get(qs, "token", tok, sizeof(tok));
	if (rc >= 0) {
		t = tok;
		tl = (size_t)rc;
	} else if (rc == -1 && hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, authz, sizeof(authz))) {
		if (strncasecmp(authz, "Bearer ", 7) != 0)
			return 0;   /* another scheme: not ours */
		t = authz + 7;
		while (*t == ' ')
			t++;
		tl = strcspn(t, " \t\r\n");
	} else if (rc == -1 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0) {
		return 0;
	}
	/* Here t is the token, or NULL for one present but unreadable (a
	 * malformed %-escape, or longer than any token may be). */
	hs->status = 401;
	hs->why = "unauthorized";
	if (!srv->token_key) {
		snprintf(hs->detail, sizeof(hs->detail), "connection token given, but token_secret_file is not set");
		return -1;
	}
	wsp_error_init(&err);
	if (!t) {
		snprintf(hs->detail, sizeof(hs->detail), "connection token unreadable (too long or not Bearer)");
		return -1;
	}
	if (wsp_conntoken_verify(srv->token_key, t, tl, wsp__now_ms() / 1000, &ct, &err) < 0) {
		snprintf(hs->detail, sizeof(hs->detail), "%s", err.text);
		return -1;
	}
	if (!wsp_conntoken_allows(&ct, hs->ns->path)) {
		hs->status = 403;
		hs->why = "forbidden";
		snprintf(hs->detail, sizeof(hs->detail), "token of %s: namespace not in its ns claim", ct.sub);
		return -1;
	}
	hs->status = 0;
	hs->why = NULL;
	snprintf(hs->user.name, sizeof(hs->user.name), "%s", ct.sub);
	snprintf(hs->user.roles, sizeof(hs->user.roles), "%s", ct.roles);
	hs->user.sid[0] = '\0';
	hs->user.exp = ct.exp;
	hs->user.token = true;
	return 1;
}

/* A header lws does not know (custom headers: "x-wspulse-user:"). */
static const char *custom_hdr(struct lws *wsi, const char *name, char *buf, int len)
{
	int nl = (int)strlen(name), n = lws_hdr_custom_length(wsi, name, nl);

	if (n <= 0 || n >= len || lws_hdr_custom_copy(wsi, buf, len, name, nl) < 0)
		return NULL;
	return buf;
}

/* The user a trusted front server names (trusted_proxy_auth): X-Wspulse-User
 * and X-Wspulse-Roles ("a,b"), believed only from a peer in
 * trusted_proxies; from any other peer they are ignored and hs->note says
 * so for the log.  Returns 1 with hs->user set, 0 (no such header, or
 * ignored), or -1 with hs->status 401 for a malformed value. */
static int proxy_user(wsp_server *srv, struct lws *wsi, const char *peer, wsp_handshake *hs)
{
	const wsp_config *cfg = srv->cfg;
	char user[WSP_USERNAME_MAX + 2], roles[WSP_ROLES_MAX + 2];
	const char *u, *r;
	int has_u = lws_hdr_custom_length(wsi, "x-wspulse-user:", 15) > 0,
	    has_r = lws_hdr_custom_length(wsi, "x-wspulse-roles:", 16) > 0;

	if (!has_u && !has_r)
		return 0;
	if (!cfg->trusted_proxy_auth || !wsp_cidr_match_any(peer, cfg->trusted_proxies.v)) {
		snprintf(hs->note, sizeof(hs->note), "X-Wspulse-User/-Roles from %s ignored (%s)",
			 *peer ? peer : "a unix socket",
			 cfg->trusted_proxy_auth ? "not in trusted_proxies" : "trusted_proxy_auth is off");
		return 0;
	}
	u = custom_hdr(wsi, "x-wspulse-user:", user, sizeof(user));
	r = custom_hdr(wsi, "x-wspulse-roles:", roles, sizeof(roles));
	if (!has_u || !u || !*u) {
		/* The front server found no session: an anonymous client. */
		return 0;
	}
	if (!wsp_conntoken_name_ok(u, WSP_USERNAME_MAX) || (has_r && !r)) {
		hs->status = 401;
		hs->why = "unauthorized";
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

void wsp__handshake(wsp_server *srv, struct lws *wsi, wsp_handshake *hs)
{
	const wsp_config *cfg = srv->cfg;
	static char qs[QS_MAX];
	char path[256], origin[512], host[300], cookie[WSP_REQUEST_HEAD_MAX], peer[64], xri[64], xff[512],
		val[128];
	const char *o, *h, *ck;
	long *count;
	int tu;

	memset(hs, 0, sizeof(*hs));
	hs->since = -1;
	if (!hdr(wsi, WSI_TOKEN_GET_URI, path, sizeof(path)) ||
	    !(hs->ns = wsp_nsreg_find(&srv->reg, path, strlen(path)))) {
		hs->status = 404;
		hs->why = "unknown namespace";
		return;
	}
	if (srv->stopping || srv->notice_end_ms) {
		hs->status = 503;
		hs->why = "shutting down";
		return;
	}
	o = hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	h = hdr(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	if (!wsp_origin_allowed(o, h, cfg->allowed_origins.v, cfg->allowed_origins.n)) {
		hs->status = 403;
		hs->why = "origin not allowed";
		return;
	}
	/* Client address (per-address limit, logs): the proxy's headers only
	 * from trusted_proxies. */
	peer[0] = '\0';
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	wsp_client_ip(peer, real_ip_hdr(wsi, xri, sizeof(xri)),
		      hdr(wsi, WSI_TOKEN_X_FORWARDED_FOR, xff, sizeof(xff)), cfg->trusted_proxies.v, hs->ip,
		      sizeof(hs->ip));
	if (srv->nclients >= cfg->max_connections) {
		hs->status = 503;
		hs->why = "too many connections";
		return;
	}
	count = wsp_strmap_get(&srv->per_ip, hs->ip);
	if (count && *count >= cfg->max_connections_per_ip) {
		hs->status = 429;
		hs->why = "too many connections from this address";
		return;
	}
	query_string(wsi, qs, sizeof(qs));
	/* A connection token names the user (and wins over a cookie sent
	 * along); one that does not verify refuses the upgrade. */
	tu = token_user(srv, wsi, qs, hs);
	if (tu == 0)
		tu = proxy_user(srv, wsi, peer, hs);
	if (tu < 0)
		return;
	hs->has_user = tu == 1;
	/* Session cookie: verified by signature alone, so a page that has just
	 * logged in is never refused for a row the daemon has not seen yet;
	 * revocations arrive over NOTIFY and are kept in srv->revoked. */
	ck = hs->has_user ? NULL : hdr(wsi, WSI_TOKEN_HTTP_COOKIE, cookie, sizeof(cookie));
	if (ck) {
		size_t vl;
		const char *v = wsp_cookie_find(ck, WSP_SESSION_COOKIE, &vl);
		wsp_token t;

		if (v && wsp_token_verify(srv->secret, v, vl, wsp__now_ms() / 1000, &t) == 0 &&
		    !wsp_strmap_get(&srv->revoked, t.sid)) {
			hs->has_user = true;
			snprintf(hs->user.name, sizeof(hs->user.name), "%s", t.username);
			snprintf(hs->user.roles, sizeof(hs->user.roles), "%s", t.roles);
			snprintf(hs->user.sid, sizeof(hs->user.sid), "%s", t.sid);
			hs->user.exp = t.exp;
		}
	}
	if (hs->ns->opts.require_auth && !hs->has_user) {
		hs->status = 401;
		hs->why = "not logged in";
		return;
	}
	if (hs->ns->roles && hs->ns->roles[0]) {
		bool ok = false;

		for (int i = 0; hs->ns->roles[i] && !ok; i++)
			ok = wsp_roles_has(hs->user.roles, hs->ns->roles[i]);
		if (!ok) {
			hs->status = 403;
			hs->why = "role missing";
			return;
		}
	}
	if (wsp_query_get(qs, "uuid", val, sizeof(val)) < 0 || !wsp_uuid_parse(val, strlen(val), hs->id))
		wsp_uuid_v4(hs->id);
	if (wsp_query_get(qs, "since", val, sizeof(val)) >= 0 && wsp_query_id(val, &hs->since) < 0)
		hs->since = -1;
}

/* The request a module's on_upgrade reads (wspulse.h).  Values are copied
 * into `arena` and stay valid for the call. */
#define UPGRADE_VALUE_MAX 4096
struct wsp_upgrade {
	struct lws *wsi;
	const wsp_handshake *hs;
	const char *qs;
	char arena[16384];
	size_t used;
	char reason[WSP_REASON_MAX + 1];
};

/* Room for n bytes + NUL in the arena, or NULL. */
static char *arena_take(wsp_upgrade *u, size_t n)
{
	char *p;

	if (n > UPGRADE_VALUE_MAX || u->used + n + 1 > sizeof(u->arena))
		return NULL;
	p = u->arena + u->used;
	u->used += n + 1;
	return p;
}

const char *wsp_upgrade_header(wsp_upgrade *u, const char *name)
{
	char lname[128];
	size_t nl = name ? strlen(name) : 0;
	int len;
	char *p;

	if (!u || nl == 0 || nl + 2 > sizeof(lname))
		return NULL;
	for (size_t i = 0; i < nl; i++)
		lname[i] = (char)tolower((unsigned char)name[i]);
	lname[nl] = ':';
	lname[nl + 1] = '\0';
	/* A header lws knows has a token of its own; any other is custom. */
	for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
		const unsigned char *ts = lws_token_to_string((enum lws_token_indexes)t);

		if (!ts || strcmp((const char *)ts, lname) != 0)
			continue;
		len = lws_hdr_total_length(u->wsi, (enum lws_token_indexes)t);
		if (len <= 0 || !(p = arena_take(u, (size_t)len)) ||
		    lws_hdr_copy(u->wsi, p, len + 1, (enum lws_token_indexes)t) < 0)
			return NULL;
		return p;
	}
	len = lws_hdr_custom_length(u->wsi, lname, (int)nl + 1);
	if (len <= 0 || !(p = arena_take(u, (size_t)len)) ||
	    lws_hdr_custom_copy(u->wsi, p, len + 1, lname, (int)nl + 1) < 0)
		return NULL;
	return p;
}

const char *wsp_upgrade_cookie(wsp_upgrade *u, const char *name)
{
	const char *ck = wsp_upgrade_header(u, "cookie"), *v;
	size_t vl;
	char *p;

	if (!ck || !name || !(v = wsp_cookie_find(ck, name, &vl)) || !(p = arena_take(u, vl)))
		return NULL;
	memcpy(p, v, vl);
	p[vl] = '\0';
	return p;
}

const char *wsp_upgrade_query(wsp_upgrade *u, const char *name)
{
	char *p;
	int n;

	if (!u || !name || u->used + 1 >= sizeof(u->arena))
		return NULL;
	p = u->arena + u->used;
	n = wsp_query_get(u->qs, name, p, sizeof(u->arena) - u->used < UPGRADE_VALUE_MAX + 1
				     ? sizeof(u->arena) - u->used : UPGRADE_VALUE_MAX + 1);
	if (n < 0)
		return NULL;
	u->used += (size_t)n + 1;
	return p;
}

const char *wsp_upgrade_path(const wsp_upgrade *u)
{
	return u && u->hs->ns ? u->hs->ns->path : "";
}

const char *wsp_upgrade_address(const wsp_upgrade *u)
{
	return u ? u->hs->ip : "";
}

void wsp_upgrade_set_reason(wsp_upgrade *u, const char *reason)
{
	if (u)
		snprintf(u->reason, sizeof(u->reason), "%s", reason ? reason : "");
}

void wsp__handshake_module(wsp_server *srv, struct lws *wsi, wsp_handshake *hs)
{
	static wsp_upgrade u;
	static char qs[QS_MAX];
	int rc;

	(void)srv;
	if (!hs->ns || !hs->ns->opts.on_upgrade)
		return;
	query_string(wsi, qs, sizeof(qs));
	u.wsi = wsi;
	u.hs = hs;
	u.qs = qs;
	u.used = 0;
	snprintf(u.reason, sizeof(u.reason), "refused");
	rc = hs->ns->opts.on_upgrade(&u, hs->has_user ? &hs->user : NULL, hs->ns->opts.user_data);
	u.wsi = NULL;
	if (rc == 0)
		return;
	snprintf(hs->reason, sizeof(hs->reason), "%s", u.reason);
	hs->why = hs->reason;
	snprintf(hs->detail, sizeof(hs->detail), "module refused with %d: %s", rc, u.reason);
	if (rc >= 4000 && rc <= 4999)
		hs->close_code = rc;
	else
		hs->status = rc >= 400 && rc <= 499 ? rc : 403;
}

