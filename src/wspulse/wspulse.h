/* wspulse/wspulse.h - the module API of wspulsed.
 *
 * A site extends the daemon with a shared object listed in the config
 * (`modules = /path/to/mymod.so`).  The daemon dlopen()s it at start-up and
 * calls its `int wsp_module_init(wsp_server *srv)`, which registers
 * namespaces.  A module that cannot be loaded, lacks wsp_module_init, or
 * whose wsp_module_init returns non-zero stops start-up; the log names the
 * module and the dlerror() text.  Build a module with
 *
 *     cc -shared -fPIC $(pkg-config --cflags wspulse) -o mymod.so mymod.c
 *
 * (the wsp_* functions are resolved from the daemon executable at load time;
 * do not link a library).  src/modules/example-chat.c is a complete example.
 *
 * Threading: every callback runs on the daemon's single event-loop thread,
 * and every function here must be called from that thread (inside a
 * callback, a wsp_server_every() timer or wsp_module_init).  Callbacks must
 * not block: no synchronous I/O, no sleep, no blocking database calls.
 *
 * json_t ownership (jansson): each function says whether it STEALS the
 * reference it is given (the caller must not use or json_decref it
 * afterwards, even on failure) or BORROWS it (the caller keeps it).  Values
 * handed TO callbacks are borrowed for the duration of the call: json_incref
 * them to keep them.  Functions returning json_t * return a NEW reference.
 *
 * Message envelopes are added by the framework: modules pass the `data`
 * object only; clients receive {"success":true,"data":{...data,"username":U}}
 * where U is the username given to the call ("" for system messages).
 */
#ifndef WSPULSE_H
#define WSPULSE_H

#include <stdbool.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version 2 added wsp_namespace_opts.on_upgrade and the wsp_upgrade_*
 * functions. */
#define WSP_API_VERSION 2
#define WSP_NAMESPACE_PREFIX "/api/1/ws/"

/* Every module built against this header carries the API version it was
 * built for (this weak definition; nothing to write).  The daemon reads it
 * when it loads the module: a module without it was built for version 1 and
 * keeps loading (its wsp_namespace_opts is read in the version-1 layout);
 * one built for a newer version than the daemon's is refused at start-up
 * with both versions in the message. */
extern const int wsp_module_api_version;
__attribute__((weak, visibility("default"))) const int wsp_module_api_version = WSP_API_VERSION;

typedef struct wsp_server wsp_server;       /* the daemon (one per process) */
typedef struct wsp_namespace wsp_namespace; /* one per registered path */
typedef struct wsp_client wsp_client;       /* one per connected socket */
typedef struct wsp_user wsp_user;           /* the logged-in user of a socket */
typedef struct wsp_upgrade wsp_upgrade;     /* one WebSocket upgrade request, during on_upgrade */

/* Options of a namespace; every member is optional (zero = off/none). */
typedef struct wsp_namespace_opts {
	/* Refuse the handshake with HTTP 401 without a valid session cookie. */
	bool require_auth;
	/* NULL-terminated role names; the user needs ANY one of them (HTTP 403
	 * otherwise).  Non-empty roles imply require_auth.  Deep-copied. */
	const char *const *require_roles;
	/* Keep broadcasts in the PostgreSQL outbox so a reconnecting client
	 * (?since=<id>) gets what it missed; every message then carries an id. */
	bool history;
	/* A socket was accepted; the welcome envelope has been sent.  `user` is
	 * NULL for a client that is not logged in. */
	void (*on_connect)(wsp_client *c, const wsp_user *user, void *ud);
	/* A client message: `data` is the parsed JSON object with "username"
	 * stamped in (BORROWED).  Return 0, or non-zero to have the framework
	 * send the client an error envelope with code 500 (the socket stays
	 * open).  Application pings ({type:"ping"}) never reach this handler. */
	int (*on_message)(wsp_client *c, json_t *data, const wsp_user *user, void *ud);
	/* The socket is gone (the client may still be used for accessors, not
	 * for sending). */
	void (*on_disconnect)(wsp_client *c, const wsp_user *user, void *ud);
	void *user_data;             /* passed to the handlers as `ud` */
	/* (API version 2) The module's own decision on an upgrade request, once
	 * the framework has accepted it (namespace, Origin, limits, session or
	 * token, roles) and before the socket opens.  `user` is NULL for a
	 * visitor.  Read the request with wsp_upgrade_header(), _cookie(),
	 * _query().  Return 0 to accept.  To refuse, return an HTTP status
	 * 400-499 (the upgrade is answered with it; non-browser clients see
	 * it) or a close code 4000-4999 (the socket opens and is closed at once
	 * with it: browsers see close codes, never HTTP statuses), and give the
	 * text with wsp_upgrade_set_reason() (default "refused").  Any other
	 * value refuses with 403.  Runs once per upgrade, on the loop thread:
	 * it must not block. */
	int (*on_upgrade)(wsp_upgrade *u, const wsp_user *user, void *ud);
} wsp_namespace_opts;

/* Register `path`, which must start with /api/1/ws/ and not be registered
 * yet.  `opts` (may be NULL) is copied.  Returns the handle (valid until the
 * daemon exits), or NULL with the reason logged.  Only during
 * wsp_module_init. */
wsp_namespace *wsp_register_namespace(wsp_server *srv, const char *path,
				      const wsp_namespace_opts *opts);

/* Send `data` (a JSON object; STOLEN) to every client of the namespace on
 * EVERY daemon sharing the database, with `username` stamped (NULL = "").
 * Serialised once; local clients get it at once, other daemons through
 * PostgreSQL.  Returns 0, or a negative code (data not an object, out of
 * memory). */
int wsp_broadcast(wsp_namespace *ns, json_t *data, const char *username);

/* As wsp_broadcast, but only to this daemon's clients (e.g. per-daemon
 * presence or stats pushes).  STEALS data. */
int wsp_broadcast_local(wsp_namespace *ns, json_t *data, const char *username);

/* Send `data` (STOLEN) to every socket of this namespace whose clientId is
 * `client_id` (several tabs may share one uuid), on every daemon, with
 * username "".  Returns 0 or a negative code.  A clientId is NOT a
 * credential: pages choose their own (?uuid=) and hello-emoji shows them
 * to everyone, so whoever connects with a uuid gets what is sent to it
 * while connected (such messages are never replayed by ?since=).  For
 * anything private use wsp_send_to_user. */
int wsp_send_to_client(wsp_namespace *ns, const char *client_id, json_t *data);

/* Send `data` (STOLEN) to every socket of this namespace logged in as
 * `username` (proved by its signed session cookie), on every daemon, with
 * username "".  In a history namespace it is kept in the outbox and a
 * ?since= catch-up replays it to that user's sockets only.  Returns 0,
 * WSP_ERR_INVALID (no such namespace, an empty or over-long name, data
 * not an object) or another negative code. */
int wsp_send_to_user(wsp_namespace *ns, const char *username, json_t *data);

/* Send `data` (STOLEN) to this one socket only, username "".  0 or negative. */
int wsp_client_send(wsp_client *c, json_t *data);

/* Send this socket an error envelope {success:false,error,code,username:""}. */
int wsp_client_send_error(wsp_client *c, int code, const char *text);

/* Close this socket with a WebSocket close code (e.g. 1000, 4000-4999).
 * What was sent to c before goes out first, then the close frame; nothing
 * sent after it goes out.  A peer that does not take all of it within 1 s
 * is disconnected without the close frame. */
void wsp_client_close(wsp_client *c, int code, const char *reason);

/* Statistics as in the spec's getStats(); NEW references (caller decrefs).
 * wsp_namespace_stats: this daemon's entry for the namespace.
 * wsp_server_stats: {uptime, totalMessages, daemons, namespaces, activityLog}
 * summed over every live daemon sharing the database (from the snapshot
 * rows, at most stats_interval old), or this daemon alone while PostgreSQL
 * is unreachable.  A message counts once in the sum: a client's where it
 * was received, a wsp_broadcast() on the daemon that made it (not on the
 * daemons that deliver it too), a REST broadcast once although every daemon
 * delivers it.  A wsp_send_to_client() or wsp_broadcast_local() is not
 * counted (one in a history namespace is, by the daemon that sent it). */
json_t *wsp_namespace_stats(wsp_namespace *ns);
json_t *wsp_server_stats(wsp_server *srv);

/* Accessors.  Returned strings are valid while the client/user lives. */
const char *wsp_client_id(const wsp_client *c);
wsp_namespace *wsp_client_namespace(const wsp_client *c);
const wsp_user *wsp_client_user(const wsp_client *c);   /* NULL: not logged in */
const char *wsp_namespace_path(const wsp_namespace *ns);
int wsp_namespace_client_count(const wsp_namespace *ns); /* this daemon's */
const char *wsp_user_name(const wsp_user *u);   /* "" for NULL */
bool wsp_user_has_role(const wsp_user *u, const char *role);
const char *wsp_server_id(const wsp_server *srv); /* daemon id (config daemon_id) */

/* Cluster-wide presence: every daemon and worker sharing the database.
 * wsp_namespace_presence_count: the sockets of the namespace everywhere:
 * the other workers' as last read (at most ~0.2 s behind a change there; a
 * worker that died drops out within 4 s) plus this worker's own, exact at
 * once (so inside on_connect it already counts the new socket, inside
 * on_disconnect no longer the leaving one).
 * wsp_namespace_presence_users: the distinct usernames of its logged-in
 * sockets everywhere, sorted (NEW reference, an array; NULL when out of
 * memory); anonymous sockets are counted but not named, and each other
 * worker names at most 1000.
 * wsp_namespace_on_presence: call fn(ns, count, ud) on the loop thread when
 * the count changes through OTHER workers (joins, leaves, a worker expiring;
 * this worker's own joins and leaves are seen in on_connect/on_disconnect),
 * and once more at the next heartbeat after any change, so that a count
 * announced from a stale view is corrected.  One fn per namespace (a later
 * call replaces it); 0 or a negative code. */
long wsp_namespace_presence_count(const wsp_namespace *ns);
json_t *wsp_namespace_presence_users(const wsp_namespace *ns);
int wsp_namespace_on_presence(wsp_namespace *ns, void (*fn)(wsp_namespace *ns, long count, void *ud),
			      void *ud);

/* The upgrade request being decided in on_upgrade (valid only during that
 * call; so are the strings returned).  Each returns NULL when absent or
 * longer than 4096 bytes.
 * wsp_upgrade_header: any request header by name, any case ("Cookie",
 *   "x-site-tenant"); repeated headers joined as lws joins them.
 * wsp_upgrade_cookie: the value of one cookie of the Cookie header.
 * wsp_upgrade_query: one query parameter, %-decoded (first one wins).
 * wsp_upgrade_path: the namespace path, without the query.
 * wsp_upgrade_address: the client address used for per-address limits. */
const char *wsp_upgrade_header(wsp_upgrade *u, const char *name);
const char *wsp_upgrade_cookie(wsp_upgrade *u, const char *name);
const char *wsp_upgrade_query(wsp_upgrade *u, const char *name);
const char *wsp_upgrade_path(const wsp_upgrade *u);
const char *wsp_upgrade_address(const wsp_upgrade *u);
/* The reason sent with a refusal (copied, at most 120 bytes). */
void wsp_upgrade_set_reason(wsp_upgrade *u, const char *reason);

/* Per-client module storage (e.g. the chosen emoji).  The module owns the
 * pointer and frees it in on_disconnect. */
void wsp_client_set_data(wsp_client *c, void *p);
void *wsp_client_get_data(const wsp_client *c);

/* Call fn(srv, arg) every `ms` milliseconds on the loop thread until the
 * daemon stops.  Returns 0 or a negative code. */
int wsp_server_every(wsp_server *srv, unsigned ms, void (*fn)(wsp_server *, void *), void *arg);

/* Every module defines this; return 0 on success. */
int wsp_module_init(wsp_server *srv);

#ifdef __cplusplus
}
#endif
#endif
