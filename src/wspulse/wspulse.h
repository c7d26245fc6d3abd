/* wspulse/wspulse.h - the module API of wspulsed.
 *
 * A site extends the daemon with a shared object listed in the config
 * (`modules = /path/to/mymod.so`).  The daemon dlopen()s it and calls its
 * `int wsp_module_init(wsp_server *srv)`, which registers namespaces.  A
 * module that fails to load, lacks wsp_module_init, or returns non-zero stops
 * start-up with its name and the reason.
 *
 * Threading: every callback runs on the daemon's event-loop thread, and every
 * function here must be called from that thread (inside a callback or
 * wsp_module_init).  Callbacks must not block: no synchronous I/O, no sleep.
 *
 * json_t ownership (jansson): each function says whether it STEALS the
 * reference it is given (the caller must not json_decref it afterwards, even
 * on failure) or BORROWS it (the caller keeps it).  Values handed TO callbacks
 * are borrowed for the duration of the call: json_incref to keep them.
 */
#ifndef WSPULSE_H
#define WSPULSE_H

#include <stdbool.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WSP_API_VERSION 1
#define WSP_NAMESPACE_PREFIX "/api/1/ws/"

typedef struct wsp_server wsp_server;       /* the daemon (one per process) */
typedef struct wsp_namespace wsp_namespace; /* one per registered path */
typedef struct wsp_client wsp_client;       /* one per connected socket */
typedef struct wsp_user wsp_user;           /* the logged-in user of a socket */

/* Handlers; all optional.  `user` is NULL for a client that is not logged in. */
typedef struct wsp_namespace_opts {
	bool require_auth;           /* refuse (401) sockets without a valid session */
	const char *const *require_roles; /* NULL-terminated; any one suffices (403 otherwise) */
	bool history;                /* keep broadcasts for ?since= catch-up */
	void (*on_connect)(wsp_client *c, const wsp_user *user, void *ud);
	/* `data` is the client's parsed JSON object with "username" stamped in
	 * (borrowed).  Return 0, or non-zero to send the client an error
	 * envelope with code 500 (the socket stays open). */
	int (*on_message)(wsp_client *c, json_t *data, const wsp_user *user, void *ud);
	void (*on_disconnect)(wsp_client *c, const wsp_user *user, void *ud);
	void *user_data;             /* passed as `ud` */
} wsp_namespace_opts;

/* Register `path` (must start with /api/1/ws/, must not be registered yet).
 * `opts` is copied (require_roles deep-copied).  Returns the handle, or NULL
 * with the reason logged (and in *err_text if non-NULL, a static string). */
wsp_namespace *wsp_register_namespace(wsp_server *srv, const char *path,
				      const wsp_namespace_opts *opts);

/* Send `data` to every client of the namespace on EVERY daemon sharing the
 * database, wrapped as {success:true,data:{...,username}}.  `username` is
 * stamped into data ("" for system messages; NULL means "").  STEALS data.
 * Returns 0 or a negative code (data not an object, too large). */
int wsp_broadcast(wsp_namespace *ns, json_t *data, const char *username);

/* Send `data` to every socket of this namespace whose clientId is
 * `client_id` (several tabs may share one uuid), wherever it is connected.
 * STEALS data.  Returns 0 or a negative code. */
int wsp_send_to_client(wsp_namespace *ns, const char *client_id, json_t *data);

/* Send to this one socket only.  STEALS data. */
int wsp_client_send(wsp_client *c, json_t *data);

/* Statistics as in the spec's getStats(); NEW reference (caller decrefs). */
json_t *wsp_namespace_stats(wsp_namespace *ns);
json_t *wsp_server_stats(wsp_server *srv);

/* Accessors; returned strings are valid while the client/user lives. */
const char *wsp_client_id(const wsp_client *c);
wsp_namespace *wsp_client_namespace(const wsp_client *c);
const char *wsp_namespace_path(const wsp_namespace *ns);
int wsp_namespace_client_count(const wsp_namespace *ns);
const char *wsp_user_name(const wsp_user *u);   /* "" for NULL */
bool wsp_user_has_role(const wsp_user *u, const char *role);

/* Per-client module storage (e.g. the chosen emoji); owned by the module. */
void wsp_client_set_data(wsp_client *c, void *p);
void *wsp_client_get_data(const wsp_client *c);

/* Call fn(srv, arg) every `ms` milliseconds on the loop thread until the
 * server stops.  Returns 0 or a negative code. */
int wsp_server_every(wsp_server *srv, unsigned ms, void (*fn)(wsp_server *, void *), void *arg);

/* Every module defines this. */
int wsp_module_init(wsp_server *srv);

#ifdef __cplusplus
}
#endif
#endif
