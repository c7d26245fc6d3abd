/* builtin.c - the namespaces every wspulsed serves, written against the
 * public module API only (they double as examples).  The two demo
 * namespaces speak jPulse v1.0.4's hello-websocket shapes field by field
 * (its site/webapp/controller/helloWebsocket.js); an anonymous user is
 * named "guest" in their data, as there.
 *
 *   /api/1/ws/hello-emoji      emoji-select -> user-emoji {clientId, username,
 *                              emoji}; cursor-move -> cursor {clientId,
 *                              username, emoji, x, y}
 *   /api/1/ws/hello-todo       REST-fed (history): todo-created|updated {todo},
 *                              todo-deleted {todoId} arrive through the outbox
 *
 * Presence on both, with the cluster-wide count (wsp_namespace_presence_count):
 * a new socket gets welcome {message, userCount}; this worker's other
 * sockets get user-joined / user-left {clientId, username, userCount, count}
 * (count: the spec's Pattern 5 name); a hello-emoji leave goes to every
 * daemon (its cursor must disappear everywhere).  When the count changes
 * through other workers, this worker's sockets get user-joined / user-left
 * {userCount, count} (no clientId), or presence {userCount, count} when a
 * heartbeat confirms an unchanged count.
 *
 *   /api/1/ws/jpulse-ws-status auth, role admin or root: stats-update on
 *                              connect and every stats_interval s
 *   /api/1/ws/jpulse-ws-test   auth: echoes every message to all its clients
 *
 * hello-emoji, hello-todo and jpulse-ws-test are the demo's: registered only
 * with `demo = on` (otherwise their paths are unknown, 404 like any other).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "alloc.h"
#include "daemon/daemon.h"

#define EMOJI_MAX 32
#define GUEST "guest"

static wsp_namespace *emoji_ns, *todo_ns, *status_ns, *test_ns;
/* The count each demo namespace's sockets on this worker were last told. */
static long emoji_told, todo_told;

static long *told_of(wsp_namespace *ns)
{
	return ns == emoji_ns ? &emoji_told : &todo_told;
}

/* jPulse's `user?.username || 'guest'`. */
static const char *demo_name(const wsp_user *u)
{
	const char *n = wsp_user_name(u);

	return *n ? n : GUEST;
}

static json_t *count_msg(const char *type, long count)
{
	return json_pack("{s:s, s:I, s:I}", "type", type, "userCount", (json_int_t)count, "count",
			 (json_int_t)count);
}

static void demo_connect(wsp_client *c, const wsp_user *u, void *ud)
{
	wsp_namespace *ns = wsp_client_namespace(c);
	long n = wsp_namespace_presence_count(ns);
	json_t *joined = count_msg("user-joined", n);

	*told_of(ns) = n;

	wsp_client_send(c, json_pack("{s:s, s:s, s:I}", "type", "welcome", "message", (const char *)ud,
				     "userCount", (json_int_t)n));
	if (joined && json_object_set_new(joined, "clientId", json_string(wsp_client_id(c))) == 0)
		wsp_broadcast_local(ns, joined, demo_name(u));
	else
		json_decref(joined);
}

static void demo_disconnect(wsp_client *c, const wsp_user *u, void *ud)
{
	wsp_namespace *ns = wsp_client_namespace(c);
	json_t *left = count_msg("user-left", wsp_namespace_presence_count(ns));

	*told_of(ns) = wsp_namespace_presence_count(ns);
	if (!left || json_object_set_new(left, "clientId", json_string(wsp_client_id(c))) < 0) {
		json_decref(left);
		return;
	}
	if (ns == emoji_ns) {
		wsp_free(wsp_client_get_data(c));
		wsp_client_set_data(c, NULL);
		wsp_broadcast(ns, left, demo_name(u));
	} else {
		wsp_broadcast_local(ns, left, demo_name(u));
	}
}

/* The count changed through other workers (or a heartbeat confirms it). */
static void demo_presence(wsp_namespace *ns, long count, void *ud)
{
	long *told = told_of(ns);
	const char *type = count > *told ? "user-joined" : count < *told ? "user-left" : "presence";

	*told = count;
	wsp_broadcast_local(ns, count_msg(type, count), "");
}

static const char *emoji_of(json_t *data, wsp_client *c)
{
	const char *e = json_string_value(json_object_get(data, "emoji"));

	if (e && *e && strlen(e) <= EMOJI_MAX) {
		char *copy = wsp_strdup(e);

		if (copy) {
			wsp_free(wsp_client_get_data(c));
			wsp_client_set_data(c, copy);
		}
	}
	return wsp_client_get_data(c) ? wsp_client_get_data(c) : "";
}

static int emoji_message(wsp_client *c, json_t *data, const wsp_user *u, void *ud)
{
	const char *type = json_string_value(json_object_get(data, "type"));
	const char *name = demo_name(u);

	if (!type)
		return wsp_client_send_error(c, 400, "message needs a type"), 0;
	if (strcmp(type, "emoji-select") == 0) {
		const char *e = emoji_of(data, c);

		return wsp_broadcast(emoji_ns, json_pack("{s:s, s:s, s:s, s:s}", "type", "user-emoji",
							 "clientId", wsp_client_id(c), "username", name,
							 "emoji", e), name) < 0;
	}
	if (strcmp(type, "cursor-move") == 0) {
		json_t *x = json_object_get(data, "x"), *y = json_object_get(data, "y");
		const char *e = emoji_of(data, c);

		if (!json_is_number(x) || !json_is_number(y) || !isfinite(json_number_value(x)) ||
		    !isfinite(json_number_value(y)))
			return wsp_client_send_error(c, 400, "cursor-move needs numeric x and y"), 0;
		return wsp_broadcast(emoji_ns, json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "type", "cursor",
							 "clientId", wsp_client_id(c), "username", name,
							 "emoji", e, "x", x, "y", y), name) < 0;
	}
	return wsp_client_send_error(c, 400, "unknown message type (emoji-select, cursor-move)"), 0;
}

static void status_connect(wsp_client *c, const wsp_user *u, void *ud)
{
	json_t *st = wsp_server_stats(status_ns->srv);

	wsp_client_send(c, json_pack("{s:s, s:o}", "type", "stats-update", "data", st));
}

static void status_push(wsp_server *srv, void *arg)
{
	if (wsp_namespace_client_count(status_ns) == 0)
		return;
	wsp_broadcast_local(status_ns, json_pack("{s:s, s:o}", "type", "stats-update", "data",
						 wsp_server_stats(srv)), "");
}

static int test_message(wsp_client *c, json_t *data, const wsp_user *u, void *ud)
{
	return wsp_broadcast(test_ns, json_deep_copy(data), wsp_user_name(u)) < 0;
}

int wsp__builtin_init(wsp_server *srv)
{
	static const char *const admin_roles[] = { "admin", "root", NULL };
	bool demo = srv->cfg->demo;

	if (demo) {
		emoji_ns = wsp_register_namespace(srv, "/api/1/ws/hello-emoji", &(wsp_namespace_opts){
			.on_connect = demo_connect, .on_message = emoji_message,
			.on_disconnect = demo_disconnect, .user_data = (void *)"Connected to emoji cursor demo" });
		todo_ns = wsp_register_namespace(srv, "/api/1/ws/hello-todo", &(wsp_namespace_opts){
			.history = true, .on_connect = demo_connect, .on_disconnect = demo_disconnect,
			.user_data = (void *)"Connected to collaborative todo demo" });
		if (!emoji_ns || !todo_ns || wsp_namespace_on_presence(emoji_ns, demo_presence, NULL) < 0 ||
		    wsp_namespace_on_presence(todo_ns, demo_presence, NULL) < 0)
			return -1;
	}
	status_ns = wsp_register_namespace(srv, "/api/1/ws/jpulse-ws-status", &(wsp_namespace_opts){
		.require_auth = true, .require_roles = admin_roles, .on_connect = status_connect });
	if (demo)
		test_ns = wsp_register_namespace(srv, "/api/1/ws/jpulse-ws-test", &(wsp_namespace_opts){
			.require_auth = true, .on_message = test_message });
	if (!status_ns || (demo && !test_ns))
		return -1;
	return wsp_server_every(srv, (unsigned)srv->cfg->stats_interval * 1000, status_push, NULL);
}
