/* handshake.c - see handshake.h. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conntoken.h"
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

/* lws 4.1.6 refuses a Sec-WebSocket-Key this long or longer (MAX_WEBSOCKET_04_KEY_LEN). */
#define WSP_WS_KEY_MAX 128

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

/* A header lws does not know (custom headers: "x-wspulse-user:"). */
static const char *custom_hdr(struct lws *wsi, const char *name, char *buf, int len)
{
	int nl = (int)strlen(name), n = lws_hdr_custom_length(wsi, name, nl);

	if (n <= 0 || n >= len || lws_hdr_custom_copy(wsi, buf, len, name, nl) < 0)
		return NULL;
	return buf;
}

/* The namespace registered at path, with its rules (hsrules.h). */
static wsp_namespace *find_ns(void *arg, const char *path, size_t len, wsp_ns_rules *rules)
{
	wsp_server *srv = arg;
	wsp_namespace *ns = wsp_nsreg_find(&srv->reg, path, len);

	if (ns) {
		rules->path = ns->path;
		rules->require_auth = ns->opts.require_auth;
		rules->roles = (const char *const *)ns->roles;
	}
	return ns;
}

void wsp__handshake(wsp_server *srv, struct lws *wsi, wsp_handshake *hs)
{
	char path[256], origin[512], host[300], cookie[WSP_REQUEST_HEAD_MAX], peer[64], xri[64], xff[512],
		qs[QS_MAX], authz[WSP_CONNTOKEN_MAX + 16], user[WSP_USERNAME_MAX + 2], roles[WSP_ROLES_MAX + 2];
	wsp_upgrade_req req;
	int key_len;
	wsp_hs_env env = {
		.cfg = srv->cfg, .secret = srv->secret, .token_key = srv->token_key, .find_ns = find_ns,
		.arg = srv, .per_ip = &srv->per_ip, .revoked = &srv->revoked, .nclients = srv->nclients,
		/* stop_notice running: upgrades refused as when stopping. */
		.stopping = srv->stopping || srv->notice_end_ms, .now_s = wsp__now_ms() / 1000,
	};

	memset(&req, 0, sizeof(req));
	req.path = hdr(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));
	query_string(wsi, qs, sizeof(qs));
	req.query = qs;
	req.origin = hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	req.host = hdr(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	peer[0] = '\0';
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	req.peer = peer;
	req.x_real_ip = real_ip_hdr(wsi, xri, sizeof(xri));
	req.x_forwarded_for = hdr(wsi, WSI_TOKEN_X_FORWARDED_FOR, xff, sizeof(xff));
	req.cookie = hdr(wsi, WSI_TOKEN_HTTP_COOKIE, cookie, sizeof(cookie));
	req.authorization = hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, authz, sizeof(authz));
	req.authorization_sent = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0;
	req.proxy_user_sent = lws_hdr_custom_length(wsi, "x-wspulse-user:", 15) > 0;
	req.proxy_roles_sent = lws_hdr_custom_length(wsi, "x-wspulse-roles:", 16) > 0;
	/* lws 4.1.6 drops an upgrade whose key is missing or 128 bytes or more
	 * (MAX_WEBSOCKET_04_KEY_LEN) without an answer, after this callback. */
	key_len = lws_hdr_total_length(wsi, WSI_TOKEN_KEY);
	req.ws_key_bad = key_len <= 0 || key_len >= WSP_WS_KEY_MAX;
	if (req.proxy_user_sent)
		req.proxy_user = custom_hdr(wsi, "x-wspulse-user:", user, sizeof(user));
	if (req.proxy_roles_sent)
		req.proxy_roles = custom_hdr(wsi, "x-wspulse-roles:", roles, sizeof(roles));
	wsp_hs_decide(&env, &req, hs);
	if (!hs->status && !hs->id[0])
		wsp_uuid_v4(hs->id);   /* no valid ?uuid=: a fresh one */
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
	/* On the stack, per call (~22 KiB: the loop's thread is the main
	 * one); the module may not keep u past the call (wspulse.h). */
	wsp_upgrade u;
	char qs[QS_MAX];
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
	if (rc == 0)
		return;
	snprintf(hs->reason, sizeof(hs->reason), "%s", u.reason);
	hs->why = hs->reason;
	hs->refusal = WSP_REFUSED_OTHER;
	snprintf(hs->detail, sizeof(hs->detail), "module refused with %d: %s", rc, u.reason);
	if (rc >= 4000 && rc <= 4999)
		hs->close_code = rc;
	else
		hs->status = rc >= 400 && rc <= 499 ? rc : 403;
}

