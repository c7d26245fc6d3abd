/* gate-module.c - a module that decides on upgrades itself (module API
 * version 2, on_upgrade): it reads a header, a cookie and a query parameter
 * of the upgrade request and refuses with an HTTP status or a 4xxx close
 * code, or accepts.  Used by tests/integration/module-upgrade.test.mjs. */
#include <stdio.h>
#include <string.h>

#include <wspulse/wspulse.h>

static int on_upgrade(wsp_upgrade *u, const wsp_user *user, void *ud)
{
	const char *tenant = wsp_upgrade_header(u, "X-Tenant");
	const char *gate = wsp_upgrade_cookie(u, "gate");
	const char *pass = wsp_upgrade_query(u, "pass");
	char text[120];

	(void)ud;
	if (wsp_upgrade_query(u, "show")) {
		/* Say what was read, as the close reason. */
		snprintf(text, sizeof(text), "tenant=%s gate=%s pass=%s path=%s ua=%s user=%s",
			 tenant ? tenant : "-", gate ? gate : "-", pass ? pass : "-", wsp_upgrade_path(u),
			 wsp_upgrade_header(u, "user-agent") ? "yes" : "no", user ? wsp_user_name(user) : "-");
		wsp_upgrade_set_reason(u, text);
		return 4000;
	}
	if (tenant && strcmp(tenant, "evil") == 0) {
		wsp_upgrade_set_reason(u, "tenant not allowed");
		return 403;
	}
	if (pass && strcmp(pass, "no") == 0)
		return 401;   /* default reason */
	if (gate && strcmp(gate, "closed") == 0) {
		wsp_upgrade_set_reason(u, "the gate is closed");
		return 4003;
	}
	if (user && strcmp(wsp_user_name(user), "blocked") == 0) {
		wsp_upgrade_set_reason(u, "this user is blocked here");
		return 4403;
	}
	if (pass && strcmp(pass, "odd") == 0)
		return 7;     /* not a status nor a close code: 403 */
	return 0;
}

int wsp_module_init(wsp_server *srv)
{
	return wsp_register_namespace(srv, "/api/1/ws/gate", &(wsp_namespace_opts){
		.on_upgrade = on_upgrade }) ? 0 : -1;
}
