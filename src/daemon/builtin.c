/* builtin.c - the namespaces every wspulsed serves, written against the
 * public module API only (they double as examples):
 *
 *   /api/1/ws/hello-emoji      emoji cursors: emoji-select -> user-emoji,
 *                              cursor-move -> cursor, user-left on
 *                              disconnect, presence {count} on join/leave
 *                              (this daemon's count)
 *   /api/1/ws/hello-todo       REST-fed (history): todo-created|updated|deleted
 *                              arrive through the outbox
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

static wsp_namespace *emoji_ns, *status_ns, *test_ns;

static void presence(void)
{
	wsp_broadcast_local(emoji_ns, json_pack("{s:s, s:i}", "type", "presence", "count",
						wsp_namespace_client_count(emoji_ns)), "");
}

static void emoji_connect(wsp_client *c, const wsp_user *u, void *ud)
{
	presence();
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
	const char *name = wsp_user_name(u);

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

static void emoji_disconnect(wsp_client *c, const wsp_user *u, void *ud)
{
	wsp_free(wsp_client_get_data(c));
	wsp_client_set_data(c, NULL);
	wsp_broadcast(emoji_ns, json_pack("{s:s, s:s}", "type", "user-left", "clientId", wsp_client_id(c)),
		      wsp_user_name(u));
	presence();
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
			.on_connect = emoji_connect, .on_message = emoji_message,
			.on_disconnect = emoji_disconnect });
		if (!emoji_ns ||
		    !wsp_register_namespace(srv, "/api/1/ws/hello-todo", &(wsp_namespace_opts){ .history = true }))
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
