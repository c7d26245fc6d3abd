/* v1-module.c - a module as built against module API version 1 (before
 * on_upgrade existed): its own copy of the version-1 wsp_namespace_opts,
 * no wsp_module_api_version symbol.  The word after the options in memory
 * is a non-NULL canary: a daemon that read this module's options in the
 * version-2 layout would take it for on_upgrade and crash on the first
 * upgrade.  It must keep loading and serving. */
#include <stdbool.h>
#include <stddef.h>

typedef struct wsp_server wsp_server;
typedef struct wsp_namespace wsp_namespace;
typedef struct wsp_client wsp_client;
typedef struct wsp_user wsp_user;

typedef struct v1_opts {
	bool require_auth;
	const char *const *require_roles;
	bool history;
	void (*on_connect)(wsp_client *c, const wsp_user *user, void *ud);
	int (*on_message)(wsp_client *c, void *data, const wsp_user *user, void *ud);
	void (*on_disconnect)(wsp_client *c, const wsp_user *user, void *ud);
	void *user_data;
} v1_opts;

wsp_namespace *wsp_register_namespace(wsp_server *srv, const char *path, const v1_opts *opts);
int wsp_client_send_error(wsp_client *c, int code, const char *text);
int wsp_module_init(wsp_server *srv);

static int on_message(wsp_client *c, void *data, const wsp_user *user, void *ud)
{
	(void)data; (void)user; (void)ud;
	return wsp_client_send_error(c, 418, "v1 module here") < 0;
}

static struct {
	v1_opts o;
	void *canary;
} reg = { { .on_message = on_message }, (void *)0x1 };

int wsp_module_init(wsp_server *srv)
{
	return wsp_register_namespace(srv, "/api/1/ws/v1-module", &reg.o) ? 0 : -1;
}
