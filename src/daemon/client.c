/* client.c - one socket: handshake rules, receive path, send queue, ping. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "alloc.h"
#include "cidr.h"
#include "conntoken.h"
#include "daemon/access.h"
#include "daemon/daemon.h"
#include "daemon/envelope.h"
#include "daemon/frameguard.h"
#include "daemon/query.h"
#include "log.h"

#define SESSION_COOKIE "wsp_session"

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
		const char *v = wsp_cookie_find(ck, SESSION_COOKIE, &vl);
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

void wsp__tq_remove(wsp_tq_node *n)
{
	wsp_timeq *q = n->q;

	if (!q)
		return;
	if (n->prev)
		n->prev->next = n->next;
	else
		q->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		q->tail = n->prev;
	n->prev = n->next = NULL;
	n->q = NULL;
}

static void tq_fire(lws_sorted_usec_list_t *sul)
{
	wsp_timeq *q = lws_container_of(sul, wsp_timeq, sul);
	long long now = wsp__mono_ms();
	wsp_tq_node *n;

	while ((n = q->head) && n->due_ms <= now) {
		wsp__tq_remove(n);
		q->due(n);
	}
	if (q->head)
		lws_sul_schedule(q->ctx, 0, &q->sul, tq_fire, (lws_usec_t)(q->head->due_ms - now) * 1000);
}

void wsp__tq_add(wsp_timeq *q, wsp_tq_node *n)
{
	wsp__tq_remove(n);
	n->q = q;
	n->due_ms = wsp__mono_ms() + q->delay_ms;
	n->prev = q->tail;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	/* An empty queue has no timer running (or a stale one): arm it.
	 * Otherwise the timer is due at or before the head, which is due
	 * before n (same delay, appended later). */
	if (q->head == n)
		lws_sul_schedule(q->ctx, 0, &q->sul, tq_fire, (lws_usec_t)q->delay_ms * 1000);
}

void wsp__tq_stop(wsp_timeq *q)
{
	lws_sul_cancel(&q->sul);
}

/* Protocol ping every ping_interval; no pong within pong_timeout: hang up. */
static void ping_due(wsp_tq_node *n)
{
	wsp_client *c = lws_container_of(n, wsp_client, tq);

	if (!c->wsi || c->closing)
		return;
	c->want_ping = true;
	c->awaiting_pong = true;
	lws_callback_on_writable(c->wsi);
	wsp__tq_add(&c->srv->pongq, &c->tq);
}

static void pong_due(wsp_tq_node *n)
{
	wsp_client *c = lws_container_of(n, wsp_client, tq);
	int fd, avail = 0;

	if (!c->wsi || c->closing)
		return;
	/* Bytes from the peer not read yet: it is alive and it is we who are
	 * late (a busy loop), so the pong may be among them.  Wait again. */
	fd = lws_get_socket_fd(c->wsi);
	if (fd >= 0 && ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) {
		wsp__tq_add(&c->srv->pongq, &c->tq);
		return;
	}
	wsp__closing_warn(c, "no pong within %ld s, closing", c->srv->cfg->pong_timeout);
	wsp__client_drop(c);
}

void wsp__client_timers_init(wsp_server *srv)
{
	srv->pingq.ctx = srv->pongq.ctx = srv->ctx;
	srv->pingq.delay_ms = srv->cfg->ping_interval * 1000LL;
	srv->pingq.due = ping_due;
	srv->pongq.delay_ms = srv->cfg->pong_timeout * 1000LL;
	srv->pongq.due = pong_due;
}

void wsp__client_timers_stop(wsp_server *srv)
{
	wsp__tq_stop(&srv->pingq);
	wsp__tq_stop(&srv->pongq);
}

void wsp__client_pong(wsp_client *c)
{
	if (!c->awaiting_pong)
		return;
	c->awaiting_pong = false;
	wsp__tq_add(&c->srv->pingq, &c->tq);
}

wsp_client *wsp__client_open(wsp_server *srv, struct lws *wsi, const wsp_handshake *hs)
{
	wsp_client *c = wsp_calloc(1, sizeof(*c));
	wsp_namespace *ns = hs->ns;
	json_t *welcome;

	if (!c)
		return NULL;
	c->srv = srv;
	c->ns = ns;
	c->wsi = wsi;
	c->refs = 1;
	memcpy(c->id, hs->id, sizeof(c->id));
	if (hs->has_user) {
		c->user = wsp_malloc(sizeof(*c->user));
		if (!c->user) {
			wsp_free(c);
			return NULL;
		}
		*c->user = hs->user;
	}
	memcpy(c->ip, hs->ip, sizeof(c->ip));
	c->since = hs->since;
	wsp_msgq_init(&c->q, (size_t)srv->cfg->send_queue_max_bytes,
		      (unsigned)srv->cfg->send_queue_max_messages);
	wsp_rate_init(&c->rate, srv->cfg->rate_limit, wsp__mono_ms());
	c->next = ns->clients;
	if (ns->clients)
		ns->clients->prev = c;
	ns->clients = c;
	ns->nclients++;
	srv->nclients++;
	wsp__presence_changed(ns);
	wsp_strmap_add(&srv->per_ip, c->ip, 1);
	wsp__tq_add(&srv->pingq, &c->tq);
	wsp_debug(ns->path, "client %s connected from %s (%s)", c->id, c->ip,
		  c->user ? c->user->name : "anonymous");
	welcome = json_pack("{s:s, s:s, s:s}", "type", "connected", "clientId", c->id, "namespace",
			    ns->path);
	if (welcome) {
		wsp_msg *m;

		/* A fresh client of a history namespace starts with the daemon's
		 * floor as its cursor: a reconnect before any message then misses
		 * nothing committed since it connected. */
		long long floor = ns->opts.history && c->since < 0 && srv->floor_known ? srv->seen.floor : -1;

		if (wsp_envelope_stamp(welcome, wsp_user_name(c->user)) == 0 &&
		    (m = wsp_envelope_success_floor(welcome, -1, floor))) {
			wsp__client_push(c, m);
			wsp_msg_unref(m);
		}
		json_decref(welcome);
	}
	if (ns->opts.history && c->since >= 0)
		wsp__relay_client_since(c);
	if (ns->opts.on_connect)
		ns->opts.on_connect(c, c->user, ns->opts.user_data);
	return c;
}

/* A socket we are closing no longer counts against its address (lws may
 * keep it a few seconds waiting for the peer's close acknowledgement). */
static void release_slot(wsp_client *c)
{
	if (!c->slot_released) {
		c->slot_released = true;
		wsp_strmap_add(&c->srv->per_ip, c->ip, -1);
	}
}

void wsp__client_drop(wsp_client *c)
{
	if (!c->wsi)
		return;
	release_slot(c);
	c->closing = true;
	wsp_msgq_cleanup(&c->q);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void wsp_client_close(wsp_client *c, int code, const char *reason)
{
	if (!c || !c->wsi || c->closing)
		return;
	release_slot(c);
	c->closing = true;
	c->close_code = code;
	/* Close reasons are at most 123 bytes in a close frame. */
	c->close_reason = wsp_strndup(reason ? reason : "", 123);
	/* What was queued before the close goes out first (write_some); the
	 * close frame follows it, and nothing follows the close frame. */
	lws_callback_on_writable(c->wsi);
	/* A peer that never reads never lets us write the queue or the close
	 * frame: lws drops the socket after 1 s. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 1);
}

void wsp__client_lws_closing(wsp_client *c)
{
	if (!c->wsi || c->closing)
		return;
	c->closing = true;
	wsp_msgq_cleanup(&c->q);
}

int wsp__client_push(wsp_client *c, wsp_msg *m)
{
	int rc;

	if (!c->wsi || c->closing)
		return 0;
	rc = wsp_msgq_push(&c->q, m);
	if (rc == WSP_ERR_LIMIT) {
		c->ns->counters.dropped++;
		c->srv->metrics.messages_dropped += 1 + c->q.count;   /* this one and the queued */
		/* Say whose fault it is: a socket that still takes bytes means
		 * the daemon fell behind, not that the peer stopped reading. */
		wsp__closing_warn(c, "send queue full (%u messages, %zu bytes; %s), closing 1008",
				  c->q.count, c->q.bytes,
				  lws_send_pipe_choked(c->wsi) ? "the peer is not reading"
							       : "the socket is writable: the daemon is behind");
		/* The queue is not delivered before this close: a reader this
		 * slow would hold it (and the socket) for good. */
		wsp_msgq_cleanup(&c->q);
		wsp_client_close(c, 1008, "send queue full");
		return rc;
	}
	if (rc != 0)
		return rc;
	c->srv->metrics.messages_out++;
	/* A non-empty queue already has a write coming (listed, or a writable
	 * callback requested). */
	if (c->q.count > 1)
		return 0;
	/* The direct path: the last write left nothing in lws's hands (so the
	 * socket took it whole) and no catch-up is pacing this queue
	 * (history.c pages from the writable callback): write at the end of
	 * this loop iteration.  Otherwise wait for POLLOUT, as lws must drain
	 * what it holds before anything else goes out. */
	if (!c->cu && !lws_partial_buffered(c->wsi)) {
		if (!c->tx_listed) {
			c->tx_listed = true;
			c->refs++;
			c->tx_next = c->srv->tx_list;
			c->srv->tx_list = c;
		}
		return 0;
	}
	lws_callback_on_writable(c->wsi);
	return 0;
}

static void send_error(wsp_client *c, int code, const char *text, json_t *extra)
{
	wsp_msg *m = wsp_envelope_error(code, text, extra);

	if (m) {
		wsp__client_push(c, m);
		wsp_msg_unref(m);
	}
}

/* One whole message from the client. */
static void handle_message(wsp_client *c)
{
	wsp_namespace *ns = c->ns;
	wsp_error err;
	json_t *data;
	long wait;

	c->srv->metrics.messages_in++;
	if (c->rx_oversize) {
		char text[96];

		snprintf(text, sizeof(text), "message too large (limit %ld bytes)",
			 c->srv->cfg->max_message_bytes);
		send_error(c, 413, text, NULL);
		return;
	}
	wsp_error_init(&err);
	if (wsp_envelope_parse(c->rx ? c->rx : "", c->rx_len, &data, &err) < 0) {
		send_error(c, 400, err.text, NULL);
		return;
	}
	/* Every message costs a token, application pings too: a ping is
	 * answered with a pong, so an unlimited one was a free way to make the
	 * daemon write. */
	wait = wsp_rate_take(&c->rate, c->srv->cfg->rate_limit, wsp__mono_ms());
	if (wait > 0) {
		json_t *extra = json_pack("{s:i}", "retryAfterMs", (int)wait);

		send_error(c, 429, "rate limit exceeded", extra);
		json_decref(extra);
		json_decref(data);
		return;
	}
	/* Application pings are the framework's business: answered, not
	 * counted, not shown to handlers. */
	if (wsp_envelope_is_ping(data)) {
		json_t *pong = json_pack("{s:s}", "type", "pong");
		wsp_msg *m;

		if (pong && wsp_envelope_stamp(pong, wsp_user_name(c->user)) == 0 &&
		    (m = wsp_envelope_success(pong, -1))) {
			wsp__client_push(c, m);
			wsp_msg_unref(m);
		}
		json_decref(pong);
		json_decref(data);
		return;
	}
	wsp_envelope_stamp(data, wsp_user_name(c->user));
	wsp__ns_count_received(ns, wsp_envelope_type(data), wsp_user_name(c->user), data);
	c->srv->anon_ctx = !c->user;
	if (ns->opts.on_message &&
	    ns->opts.on_message(c, data, c->user, ns->opts.user_data) != 0) {
		wsp_warn(ns->path, "handler failed for a '%s' message from %s", wsp_envelope_type(data), c->id);
		send_error(c, 500, "handler failed", NULL);
	}
	c->srv->anon_ctx = false;
	json_decref(data);
}

int wsp__client_rx(wsp_client *c, const char *in, size_t len, bool first, bool final,
		   size_t remaining)
{
	const wsp_config *cfg = c->srv->cfg;

	if (c->closing)
		return 0;
	if (first) {
		c->rx_len = c->rx_total = 0;
		c->rx_oversize = false;
	}
	c->rx_total += len;
	if (c->rx_total + remaining > (size_t)cfg->max_frame_bytes) {
		wsp__closing_warn(c, "message over %ld bytes, closing 1009", cfg->max_frame_bytes);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 (unsigned char *)"message too big", 15);
		release_slot(c);
		return -1;
	}
	if (c->rx_total > (size_t)cfg->max_message_bytes) {
		c->rx_oversize = true;
		c->rx_len = 0;
	} else if (len) {
		if (c->rx_len + len + 1 > c->rx_cap) {
			size_t ncap = c->rx_len + len + 1 + (first && final ? 0 : 4096);
			char *p = wsp_realloc(c->rx, ncap);

			if (!p)
				return -1;
			c->rx = p;
			c->rx_cap = ncap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
	}
	if (final && remaining == 0) {
		handle_message(c);
		c->rx_len = c->rx_total = 0;
		c->rx_oversize = false;
		/* Large reassembly buffers are not kept around. */
		if (c->rx_cap > 16384) {
			wsp_free(c->rx);
			c->rx = NULL;
			c->rx_cap = 0;
		}
	}
	return 0;
}

/* Several queued messages go out as consecutive frames in ONE write (one
 * send(), one TCP segment train) instead of one write per writable
 * callback: per delivery, the system call and the loopback/TCP work it
 * carries dominate the daemon's CPU (perf: ~75 % kernel).  Server frames
 * are unmasked and we negotiate no extension, so the frames are a header
 * (2, 4 or 10 bytes) and the payload; lws writes them as raw bytes
 * (LWS_WRITE_HTTP on a ws connection is sent as is) and buffers what the
 * socket does not take, like any other write. */
#define BATCH_MAX 32768
static unsigned char batch[LWS_PRE + BATCH_MAX];

static size_t frame_head(unsigned char *p, size_t len)
{
	p[0] = 0x81;                          /* FIN, text */
	if (len < 126) {
		p[1] = (unsigned char)len;
		return 2;
	}
	if (len < 65536) {
		p[1] = 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		return 4;
	}
	p[1] = 127;
	for (int i = 0; i < 8; i++)
		p[2 + i] = (unsigned char)((unsigned long long)len >> (56 - 8 * i));
	return 10;
}

/* Room in the socket's send buffer, at most BATCH_MAX.  A batch larger
 * than the socket takes would leave lws to copy the rest to the heap and
 * hold it until the peer reads (up to BATCH_MAX per slow socket); the
 * kernel's SO_SNDBUF counts overhead too, so half of it is payload. */
static size_t send_room(struct lws *wsi)
{
	int fd = lws_get_socket_fd(wsi), outq = 0, sndbuf = 0;
	socklen_t sl = sizeof(sndbuf);

	if (fd < 0 || ioctl(fd, SIOCOUTQ, &outq) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) < 0)
		return BATCH_MAX;
	if (sndbuf / 2 <= outq)
		return 0;
	return (size_t)(sndbuf / 2 - outq) < BATCH_MAX ? (size_t)(sndbuf / 2 - outq) : BATCH_MAX;
}

/* Write the whole queued frames that fit the socket's free send space (at
 * most BATCH_MAX bytes) in one write; the number written (0: fewer than
 * two fit, the caller writes one the usual way), or -1. */
static int write_batch(wsp_client *c)
{
	unsigned char *start = batch + LWS_PRE, *p = start;
	size_t room = send_room(c->wsi);
	unsigned n = 0;

	while (n < c->q.count) {
		wsp_msg *m = wsp_msgq_at(&c->q, n);

		if ((size_t)(p - start) + 10 + m->len > room)
			break;
		p += frame_head(p, m->len);
		memcpy(p, wsp_msg_payload(m), m->len);
		p += m->len;
		n++;
	}
	if (n < 2)
		return 0;
	if (lws_write(c->wsi, start, (size_t)(p - start), LWS_WRITE_HTTP) < (int)(p - start))
		return -1;
	for (unsigned i = 0; i < n; i++)
		wsp_msgq_pop(&c->q);
	return (int)n;
}

/* Write c's queued messages: several as one batch (as many whole frames as
 * the socket's free space takes), one alone the usual way.  lws keeps what
 * the socket does not take and drains it at POLLOUT before it calls
 * SERVER_WRITEABLE again.  Asks for a writable callback while messages (or a
 * ping) remain.  Returns 0, or -1 when the connection failed. */
static int write_queue(wsp_client *c)
{
	wsp_msg *m;
	int n;

	if (c->q.count > 1) {
		n = write_batch(c);
		if (n < 0)
			return -1;
		if (n > 0) {
			if (c->q.count || c->want_ping)
				lws_callback_on_writable(c->wsi);
			return 0;
		}
	}
	m = wsp_msgq_peek(&c->q);
	if (!m)
		return 0;
	if (lws_write(c->wsi, wsp_msg_payload(m), m->len, LWS_WRITE_TEXT) < (int)m->len)
		return -1;
	wsp_msgq_pop(&c->q);
	if (c->q.count || c->want_ping)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int write_some(wsp_client *c);

int wsp__client_writable(wsp_client *c)
{
	int rc = write_some(c);

	if (rc == 0 && c->cu)
		wsp__history_drained(c);
	return rc;
}

/* SERVER_WRITEABLE: lws holds none of c's output now. */
static int write_some(wsp_client *c)
{
	unsigned char buf[LWS_PRE + 16];
	/* lws 4.1.6 drops EMPTY pongs without a callback, so our pings carry a
	 * payload the client must echo. */
	static const char ping_payload[] = "wsp";

	if (c->closing && c->close_code) {
		/* wsp_client_close(): the queue first, then the close frame in
		 * a later callback, i.e. once lws has sent all of it (lws's
		 * close with output still buffered would drop the close frame). */
		if (c->q.count) {
			if (write_queue(c) < 0)
				return -1;
			lws_callback_on_writable(c->wsi);
			return 0;
		}
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)(c->close_reason ? c->close_reason : ""),
				 c->close_reason ? strlen(c->close_reason) : 0);
		return -1;
	}
	if (c->closing)
		return 0;
	if (c->want_ping) {
		c->want_ping = false;
		memcpy(buf + LWS_PRE, ping_payload, 3);
		if (lws_write(c->wsi, buf + LWS_PRE, 3, LWS_WRITE_PING) < 3)
			return -1;
		if (c->q.count)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	return write_queue(c);
}

void wsp__client_flush(wsp_server *srv)
{
	/* Clients are listed newest first; write them in the order their
	 * queues filled (a namespace's broadcast reaches its sockets in list
	 * order).  Writing lists no one, but loop in case it ever does. */
	while (srv->tx_list) {
		wsp_client *c = srv->tx_list, *rev = NULL, *next;

		srv->tx_list = NULL;
		for (; c; c = next) {
			next = c->tx_next;
			c->tx_next = rev;
			rev = c;
		}
		for (c = rev; c; c = next) {
			next = c->tx_next;
			c->tx_next = NULL;
			c->tx_listed = false;
			/* Closed, closing (its close path writes the queue), or
			 * lws got output of its own buffered meanwhile (a pong):
			 * the writable callback's turn. */
			if (c->wsi && !c->closing && c->q.count) {
				if (lws_partial_buffered(c->wsi))
					lws_callback_on_writable(c->wsi);
				else if (write_queue(c) < 0) {
					wsp__closing_warn(c, "write failed, closing");
					wsp__client_drop(c);
				}
			}
			wsp__client_unref(c);
		}
	}
}

void wsp__client_unref(wsp_client *c)
{
	if (c && --c->refs == 0) {
		wsp__history_drop(c);
		wsp_msgq_cleanup(&c->q);
		wsp_free(c->rx);
		wsp_free(c->user);
		wsp_free(c->close_reason);
		wsp_free(c);
	}
}

void wsp__client_closed(wsp_client *c)
{
	wsp_namespace *ns = c->ns;
	wsp_server *srv = c->srv;

	wsp__tq_remove(&c->tq);
	if (c->prev)
		c->prev->next = c->next;
	else
		ns->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	ns->nclients--;
	srv->nclients--;
	wsp__presence_changed(ns);
	release_slot(c);
	c->wsi = NULL;
	wsp_msgq_cleanup(&c->q);
	wsp_debug(ns->path, "client %s disconnected", c->id);
	if (ns->opts.on_disconnect)
		ns->opts.on_disconnect(c, c->user, ns->opts.user_data);
	wsp__client_unref(c);
}
