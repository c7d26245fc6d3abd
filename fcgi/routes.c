/* routes.c - the REST route table: every URL wspulse.fcgi answers. */
#include "config.h"

#include "handlers.h"

const wsp_route wsp_routes[] = {
	{ "GET", "/api/1/health", wsp_h_health, 0 },
	{ "POST", "/api/1/auth/login", wsp_h_login, 0 },
	{ "POST", "/api/1/auth/logout", wsp_h_logout, 0 },
	{ "GET", "/api/1/auth/me", wsp_h_me, 0 },
	{ "GET", "/api/1/helloTodo", wsp_h_todo_list, 0 },
	{ "POST", "/api/1/helloTodo", wsp_h_todo_create, 0 },
	{ "GET", "/api/1/helloTodo/stats", wsp_h_todo_stats, 0 },
	{ "PUT", "/api/1/helloTodo/:id/toggle", wsp_h_todo_toggle, 0 },
	{ "DELETE", "/api/1/helloTodo/:id", wsp_h_todo_delete, 0 },
	{ "GET", "/api/1/websocket/stats", wsp_h_ws_stats, 0 },
	{ "POST", "/api/1/websocket/publish", wsp_h_publish, 0 },
	{ "GET", "/admin/websocket-stats.shtml", wsp_h_admin_page, WSP_ROUTE_HTML },
	{ "GET", "/admin/websocket-status.shtml", wsp_h_admin_page, WSP_ROUTE_HTML },
};

const size_t wsp_routes_count = sizeof(wsp_routes) / sizeof(wsp_routes[0]);
