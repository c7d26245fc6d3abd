/* test-module.c - a module for the integration tests: handler failure,
 * large broadcasts (over the NOTIFY limit), sendToClient, broadcasts, a
 * burst of messages followed by a close (the write path's ordering); and
 * /api/1/ws/my-app, the server side of the spec's Vue.js example: every
 * client message is broadcast to all (wsHandle.broadcast(data, username)). */
#include <stdlib.h>
#include <string.h>

#include <wspulse/wspulse.h>

static wsp_namespace *ns;

static int on_message(wsp_client *c, json_t *data, const wsp_user *user, void *ud)
{
	const char *type = json_string_value(json_object_get(data, "type"));

	if (!type)
		return 0;
	if (!strcmp(type, "fail"))
		return -1;
	if (!strcmp(type, "echo"))
		return wsp_broadcast(ns, json_deep_copy(data), wsp_user_name(user)) < 0;
	if (!strcmp(type, "big")) {
		size_t n = (size_t)json_integer_value(json_object_get(data, "size"));
		char *pad = malloc(n + 1);
		json_t *out;

		if (!pad)
			return -1;
		memset(pad, 'x', n);
		pad[n] = '\0';
		out = json_pack("{s:s, s:O, s:s}", "type", "big", "seq", json_object_get(data, "seq"), "pad", pad);
		free(pad);
		return wsp_broadcast(ns, out, wsp_user_name(user)) < 0;
	}
	/* The write path's ordering tests: n messages of `size` bytes to this
	 * client, then its close (4000 + n % 1000); or the close alone. */
	if (!strcmp(type, "burst-close") || !strcmp(type, "close-me")) {
		json_int_t n = !strcmp(type, "close-me") ? 0 : json_integer_value(json_object_get(data, "n"));
		size_t size = (size_t)json_integer_value(json_object_get(data, "size"));
		char *pad = malloc(size + 1);

		if (!pad || n < 0 || n > 100000) {
			free(pad);
			return -1;
		}
		memset(pad, 'y', size);
		pad[size] = '\0';
		for (json_int_t i = 1; i <= n; i++)
			if (wsp_client_send(c, json_pack("{s:s, s:I, s:s}", "type", "burst", "seq", i, "pad", pad)) < 0)
				break;
		free(pad);
		wsp_client_close(c, 4000 + (int)(n % 1000), "burst done");
		return 0;
	}
	if (!strcmp(type, "to-client")) {
		const char *target = json_string_value(json_object_get(data, "target"));

		return wsp_send_to_client(ns, target ? target : "", json_pack("{s:s, s:O}", "type", "private",
									     "seq", json_object_get(data, "seq"))) < 0;
	}
	if (!strcmp(type, "to-user")) {
		const char *target = json_string_value(json_object_get(data, "target"));

		return wsp_send_to_user(ns, target ? target : "", json_pack("{s:s, s:O}", "type", "private",
									   "seq", json_object_get(data, "seq"))) < 0;
	}
	return 0;
}

static wsp_namespace *my_app;

static int my_app_message(wsp_client *c, json_t *data, const wsp_user *user, void *ud)
{
	return wsp_broadcast(my_app, json_deep_copy(data), wsp_user_name(user)) < 0;
}

int wsp_module_init(wsp_server *srv)
{
	my_app = wsp_register_namespace(srv, "/api/1/ws/my-app", &(wsp_namespace_opts){
		.on_message = my_app_message });
	if (!my_app)
		return -1;
	ns = wsp_register_namespace(srv, "/api/1/ws/test-module", &(wsp_namespace_opts){
		.on_message = on_message });
	/* Registering twice and outside the prefix must fail. */
	if (wsp_register_namespace(srv, "/api/1/ws/test-module", NULL) ||
	    wsp_register_namespace(srv, "/api/2/other", NULL))
		return -1;
	return ns ? 0 : -1;
}
