/* builtin.c - the namespaces every wspulsed serves, written against the
 * public module API only (they double as examples).  The two demo
 * namespaces speak jPulse v1.0.4's hello-websocket shapes field by field
 * (its site/webapp/controller/helloWebsocket.js); an anonymous user is
 * named "guest" in their data, as there.
 *
 *   /api/1/ws/hello-emoji      emoji-select -> user-emoji {clientId, username,
 *                              emoji}; cursor-move -> cursor {clientId,
 *                              username, emoji, x, y}; at most one cursor
 *                              and one user-emoji a socket every CURSOR_MS
 *                              (only the latest position and emoji matter:
 *                              the others are dropped)
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
#include <time.h>

#include "alloc.h"
#include "daemon/builtin.h"
#include "nspaths.h"

#define EMOJI_MAX 32
#define GUEST "guest"
/* Cursor updates and emoji choices are coalesced per socket: at most one
 * of each every CURSOR_MS goes out, the latest.  Every one reaches every
 * viewer, so without this 100 anonymous sockets within the message rate
 * limit made each viewer receive ~2 500 cursors a second (or 5 000
 * user-emoji messages at 50 emoji-selects a second each). */
#define CURSOR_MS 100

/* One per hello-emoji socket that chose an emoji or moved (its client data). */
struct emoji_state {
	wsp_client *c;
	char emoji[EMOJI_MAX + 1];
	json_t *x, *y;               /* the newest position not sent yet */
	long long sent_ms;           /* when its last cursor went out */
	long long emoji_ms;          /* when its last user-emoji went out */
	bool emoji_due;              /* the newest emoji waits to go out */
	bool pending;                /* in the `pending` list: a position or an emoji waits */
	struct emoji_state *next;
};
static struct emoji_state *pending;

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
		struct emoji_state *st = wsp_client_get_data(c);

		if (st && st->pending) {
			for (struct emoji_state **pp = &pending; *pp; pp = &(*pp)->next)
				if (*pp == st) {
					*pp = st->next;
					break;
				}
		}
		if (st) {
			json_decref(st->x);
			json_decref(st->y);
		}
		wsp_free(st);
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

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* c's state (made on first use), its emoji updated from data; NULL when
 * out of memory. */
static struct emoji_state *emoji_of(json_t *data, wsp_client *c)
{
	struct emoji_state *st = wsp_client_get_data(c);
	const char *e = json_string_value(json_object_get(data, "emoji"));

	if (!st) {
		st = wsp_calloc(1, sizeof(*st));
		if (!st)
			return NULL;
		st->c = c;
		wsp_client_set_data(c, st);
	}
	if (e && *e && strlen(e) <= EMOJI_MAX)
		memcpy(st->emoji, e, strlen(e) + 1);
	return st;
}

static int send_cursor(struct emoji_state *st, json_t *x, json_t *y, long long now)
{
	const char *name = demo_name(wsp_client_user(st->c));

	st->sent_ms = now;
	return wsp_broadcast(emoji_ns, json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "type", "cursor",
						 "clientId", wsp_client_id(st->c), "username", name,
						 "emoji", st->emoji, "x", x, "y", y), name);
}

static int send_emoji(struct emoji_state *st, long long now)
{
	const char *name = demo_name(wsp_client_user(st->c));

	st->emoji_ms = now;
	return wsp_broadcast(emoji_ns, json_pack("{s:s, s:s, s:s, s:s}", "type", "user-emoji",
						 "clientId", wsp_client_id(st->c), "username", name,
						 "emoji", st->emoji), name);
}

/* Put st in the `pending` list (once). */
static void hold(struct emoji_state *st)
{
	if (!st->pending) {
		st->pending = true;
		st->next = pending;
		pending = st;
	}
}

/* Every CURSOR_MS / 2: send the held positions and emojis that are due. */
static void flush_cursors(wsp_server *srv, void *arg)
{
	long long now = mono_ms();
	struct emoji_state **pp = &pending, *st;

	(void)srv;
	(void)arg;
	while ((st = *pp)) {
		bool cursor = st->x && now - st->sent_ms >= CURSOR_MS;
		bool emoji = st->emoji_due && now - st->emoji_ms >= CURSOR_MS;
		json_t *x = st->x, *y = st->y;

		if (cursor)
			st->x = st->y = NULL;
		if (emoji)
			st->emoji_due = false;
		if (!st->x && !st->emoji_due) {
			*pp = st->next;
			st->pending = false;
		} else {
			pp = &st->next;
		}
		/* After the list is consistent: a send may close a client. */
		if (emoji)
			send_emoji(st, now);
		if (cursor) {
			send_cursor(st, x, y, now);
			json_decref(x);
			json_decref(y);
		}
	}
}

static int emoji_message(wsp_client *c, json_t *data, const wsp_user *u, void *ud)
{
	const char *type = json_string_value(json_object_get(data, "type"));
	struct emoji_state *st;

	if (!type)
		return wsp_client_send_error(c, 400, "message needs a type"), 0;
	if (strcmp(type, "emoji-select") == 0) {
		long long now = mono_ms();

		if (!(st = emoji_of(data, c)))
			return -1;
		if (!st->emoji_due && now - st->emoji_ms >= CURSOR_MS)
			return send_emoji(st, now) < 0;
		/* Too soon after the last one: the newest goes out when due. */
		st->emoji_due = true;
		hold(st);
		return 0;
	}
	if (strcmp(type, "cursor-move") == 0) {
		json_t *x = json_object_get(data, "x"), *y = json_object_get(data, "y");
		long long now = mono_ms();

		if (!json_is_number(x) || !json_is_number(y) || !isfinite(json_number_value(x)) ||
		    !isfinite(json_number_value(y)))
			return wsp_client_send_error(c, 400, "cursor-move needs numeric x and y"), 0;
		if (!(st = emoji_of(data, c)))
			return -1;
		if (!st->x && now - st->sent_ms >= CURSOR_MS)
			return send_cursor(st, x, y, now) < 0;
		/* Too soon after the last one: keep only the newest position. */
		json_decref(st->x);
		json_decref(st->y);
		st->x = json_incref(x);
		st->y = json_incref(y);
		hold(st);
		return 0;
	}
	return wsp_client_send_error(c, 400, "unknown message type (emoji-select, cursor-move)"), 0;
}

static void status_connect(wsp_client *c, const wsp_user *u, void *ud)
{
	json_t *st = wsp_server_stats(ud);   /* the server (its user_data) */

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

int wsp__builtin_init(wsp_server *srv, bool demo, unsigned stats_ms)
{
	static const char *const admin_roles[] = { "admin", "root", NULL };

	if (demo) {
		emoji_ns = wsp_register_namespace(srv, WSP_NS_HELLO_EMOJI, &(wsp_namespace_opts){
			.on_connect = demo_connect, .on_message = emoji_message,
			.on_disconnect = demo_disconnect, .user_data = (void *)"Connected to emoji cursor demo" });
		todo_ns = wsp_register_namespace(srv, WSP_NS_HELLO_TODO, &(wsp_namespace_opts){
			.history = true, .on_connect = demo_connect, .on_disconnect = demo_disconnect,
			.user_data = (void *)"Connected to collaborative todo demo" });
		if (!emoji_ns || !todo_ns || wsp_namespace_on_presence(emoji_ns, demo_presence, NULL) < 0 ||
		    wsp_namespace_on_presence(todo_ns, demo_presence, NULL) < 0 ||
		    wsp_server_every(srv, CURSOR_MS / 2, flush_cursors, NULL) < 0)
			return -1;
	}
	status_ns = wsp_register_namespace(srv, WSP_NS_STATUS, &(wsp_namespace_opts){
		.require_auth = true, .require_roles = admin_roles, .on_connect = status_connect,
		.user_data = srv });
	if (demo)
		test_ns = wsp_register_namespace(srv, WSP_NS_TEST, &(wsp_namespace_opts){
			.require_auth = true, .on_message = test_message });
	if (!status_ns || (demo && !test_ns))
		return -1;
	return wsp_server_every(srv, stats_ms, status_push, NULL);
}
