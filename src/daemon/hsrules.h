/* hsrules.h - the decision on a WebSocket upgrade request: a pure function
 * over a plain struct of the request's strings and the daemon's state it
 * needs (no lws, no sockets, no clock, no randomness), so the CUnit tests
 * and the fuzzer call exactly what the daemon runs (handshake.c collects
 * the strings from lws and calls it).
 *
 * The rules, in order: the client address (forwarding headers only from
 * trusted_proxies) is computed, so every refusal's log line names it; a
 * Sec-WebSocket-Key lws can take (else 400); the path is a registered
 * namespace (else 404); the daemon is not stopping (503); the Origin is
 * allowed (403); fewer than max_connections sockets (503); fewer than
 * max_connections_per_ip from that address (429); a connection token
 * (?token= or Authorization: Bearer) names the user - one that does not
 * verify refuses (401; 403 when its ns claim does not cover the path) -,
 * else a trusted front server's X-Wspulse-User/-Roles (malformed: 401;
 * from an untrusted peer: ignored, with a note), else the session cookie
 * (signature, expiry, not revoked); a namespace requiring auth refuses
 * without a user (401), one requiring roles without one of them (403);
 * then ?uuid= and ?since= are read. */
#ifndef WSP_HSRULES_H
#define WSP_HSRULES_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "conntoken.h"
#include "error.h"
#include "secret.h"
#include "token.h"
#include "wspulse/wspulse.h"

#include "daemon/metrics.h"
#include "daemon/strmap.h"
#include "daemon/uuid.h"

#define WSP_REASON_MAX 120      /* bytes of a close reason (a close frame holds 123) */

/* The logged-in user of a socket (session cookie, connection token or a
 * trusted front server's headers). */
struct wsp_user {
	char name[WSP_USERNAME_MAX + 1];
	char roles[WSP_ROLES_MAX + 1];
	char sid[WSP_SID_LEN + 1];   /* "" for a connection-token or front-server user */
	long long exp;
	bool token;                  /* from a connection token: closed with 4408 at exp */
};

/* What an upgrade request carries, as plain strings (all BORROWED; NULL
 * when absent, or too long for the caller's buffer where it says so). */
typedef struct wsp_upgrade_req {
	const char *path;            /* the URI's path without its query; NULL: none or too long */
	const char *query;           /* the query string, "" when none */
	const char *origin, *host;
	const char *peer;            /* the socket's peer address, "" for a unix socket */
	const char *x_real_ip, *x_forwarded_for;
	const char *cookie;
	const char *authorization;   /* NULL when absent or too long to read */
	bool authorization_sent;     /* the header was there (even unreadable) */
	const char *proxy_user, *proxy_roles;  /* X-Wspulse-User / -Roles, NULL when absent or too long */
	bool proxy_user_sent, proxy_roles_sent;
	bool ws_key_bad;             /* Sec-WebSocket-Key missing or too long for lws: 400 */
} wsp_upgrade_req;

/* One namespace's rules, as the decision needs them. */
typedef struct wsp_ns_rules {
	const char *path;
	bool require_auth;
	const char *const *roles;    /* NULL-terminated; NULL or empty: no role needed */
} wsp_ns_rules;

/* The daemon's state the decision reads (all BORROWED, read only). */
typedef struct wsp_hs_env {
	const wsp_config *cfg;
	const wsp_secret *secret;
	const wsp_conntoken_key *token_key;  /* NULL: no token_secret_file (a token is refused) */
	/* The namespace registered at path (len bytes), its rules in *rules;
	 * NULL when none is. */
	wsp_namespace *(*find_ns)(void *arg, const char *path, size_t len, wsp_ns_rules *rules);
	void *arg;
	wsp_strmap *per_ip;          /* open sockets per client address */
	wsp_strmap *revoked;         /* revoked session ids */
	long nclients;               /* open sockets */
	bool stopping;               /* stopping, or stop_notice running: upgrades get 503 */
	long long now_s;             /* wall clock, seconds (token and cookie expiry) */
} wsp_hs_env;

/* What the rules decided for one upgrade request. */
typedef struct wsp_handshake {
	int status;                  /* 0 = accept, else the HTTP status */
	const char *why;             /* sent in the refusal (a static string or `reason`) */
	enum wsp_refusal refusal;    /* what the metrics count it as (WSP_REFUSED_OTHER when no rule names it) */
	char detail[WSP_ERROR_TEXT_MAX]; /* logged instead of why when set (never sent) */
	char note[160];              /* logged (warn) once per upgrade even when accepted */
	int close_code;              /* a module's 4000-4999 refusal: open, then close with it */
	char reason[WSP_REASON_MAX + 1]; /* a module's refusal text (why points here) */
	wsp_namespace *ns;           /* set from the namespace rule on */
	bool has_user;
	wsp_user user;
	char ip[64];                 /* the client address, set by the first rule */
	char id[WSP_UUID_LEN + 1];   /* ?uuid= when valid, else "" (the caller makes one) */
	long long since;             /* ?since=, -1 when absent or invalid */
} wsp_handshake;

/* Decide req under env into *hs (overwritten whole).  hs->status 0 is an
 * accept; the fields after a refusing rule are left as that rule found
 * them.  Nothing is logged, counted or allocated. */
void wsp_hs_decide(const wsp_hs_env *env, const wsp_upgrade_req *req, wsp_handshake *hs);

#endif
