/* example-chat.c - a complete wspulsed site module: a chat room.
 *
 * Build (outside this tree):
 *   cc -shared -fPIC $(pkg-config --cflags wspulse) -o example-chat.so example-chat.c
 * Load it from the config:
 *   modules = /usr/local/lib/wspulse/example-chat.so
 *
 * Browser side:  jPulse.ws.connect('/api/1/ws/example-chat')
 *                  .onMessage(d => d.type === 'chat' && show(d.username, d.text));
 *                ws.send({type: 'chat', text: 'hello'});
 * Logged-in users only (the username is stamped by the framework).
 */
#include <string.h>

#include <wspulse/wspulse.h>

#define MAX_TEXT 500

static wsp_namespace *room;

static void on_connect(wsp_client *c, const wsp_user *user, void *ud)
{
	/* Only to the newcomer: how many are here, on every daemon sharing the
	 * database (this one's sockets exact, the others' as of ~0.2 s ago),
	 * and who is logged in. */
	wsp_client_send(c, json_pack("{s:s, s:I, s:o?}", "type", "welcome", "here",
				     (json_int_t)wsp_namespace_presence_count(room), "users",
				     wsp_namespace_presence_users(room)));
	/* To everybody, on every daemon: the spec's Pattern 5. */
	wsp_broadcast(room, json_pack("{s:s, s:I}", "type", "joined", "count",
				      (json_int_t)wsp_namespace_presence_count(room)), wsp_user_name(user));
}

static int on_message(wsp_client *c, json_t *data, const wsp_user *user, void *ud)
{
	const char *type = json_string_value(json_object_get(data, "type"));
	const char *text = json_string_value(json_object_get(data, "text"));

	if (!type || strcmp(type, "chat") != 0)
		return wsp_client_send_error(c, 400, "expected {type:'chat', text}"), 0;
	if (!text || !*text || strlen(text) > MAX_TEXT)
		return wsp_client_send_error(c, 400, "text must be 1-500 bytes"), 0;
	/* data is borrowed: build a new object (the broadcast steals it). */
	return wsp_broadcast(room, json_pack("{s:s, s:s, s:s}", "type", "chat", "text", text,
					     "clientId", wsp_client_id(c)),
			     wsp_user_name(user)) < 0;
}

static void on_disconnect(wsp_client *c, const wsp_user *user, void *ud)
{
	wsp_broadcast(room, json_pack("{s:s, s:I}", "type", "left", "count",
				      (json_int_t)wsp_namespace_presence_count(room)), wsp_user_name(user));
}

int wsp_module_init(wsp_server *srv)
{
	room = wsp_register_namespace(srv, WSP_NAMESPACE_PREFIX "example-chat", &(wsp_namespace_opts){
		.require_auth = true,
		.on_connect = on_connect,
		.on_message = on_message,
		.on_disconnect = on_disconnect,
	});
	return room ? 0 : -1;
}
