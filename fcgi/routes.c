/* routes.c - the REST route table: every URL wspulse.fcgi answers. */
#include "config.h"

#include "handlers.h"

const wsp_route wsp_routes[] = {
	{ "GET", "/api/1/health", wsp_h_health, 0 },
	{ "POST", "/api/1/auth/login", wsp_h_login, 0 },
	{ "POST", "/api/1/auth/logout", wsp_h_logout, 0 },
	{ "GET", "/api/1/auth/me", wsp_h_me, 0 },
	{ "GET", "/api/1/helloTodo", wsp_h_todo_list, WSP_ROUTE_DEMO },
	{ "POST", "/api/1/helloTodo", wsp_h_todo_create, WSP_ROUTE_DEMO | WSP_ROUTE_ANON_RATE },
	{ "GET", "/api/1/helloTodo/stats", wsp_h_todo_stats, WSP_ROUTE_DEMO },
	{ "PUT", "/api/1/helloTodo/:id/toggle", wsp_h_todo_toggle, WSP_ROUTE_DEMO | WSP_ROUTE_ANON_RATE },
	{ "DELETE", "/api/1/helloTodo/:id", wsp_h_todo_delete, WSP_ROUTE_DEMO | WSP_ROUTE_ANON_RATE },
	{ "GET", "/api/1/websocket/stats", wsp_h_ws_stats, 0 },
	{ "POST", "/api/1/websocket/publish", wsp_h_publish, 0 },
	{ "GET", "/api/1/websocket/metrics", wsp_h_metrics, 0 },
	{ "GET", "/api/1/websocket/presence", wsp_h_presence, 0 },
	{ "GET", "/admin/websocket-stats.shtml", wsp_h_admin_page, WSP_ROUTE_HTML },
	{ "GET", "/admin/websocket-status.shtml", wsp_h_admin_page, WSP_ROUTE_HTML },
};

const size_t wsp_routes_count = sizeof(wsp_routes) / sizeof(wsp_routes[0]);

size_t wsp_routes_select(int demo, wsp_route *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < wsp_routes_count && n < cap; i++)
		if (demo || !(wsp_routes[i].flags & WSP_ROUTE_DEMO))
			out[n++] = wsp_routes[i];
	return n;
}
