/* handlers.h - every REST route's handler, one file per group, and the
 * route table that maps requests onto them (routes.c). */
#ifndef WSP_HANDLERS_H
#define WSP_HANDLERS_H

#include <stddef.h>

#include "router.h"

/* Route flags. */
#define WSP_ROUTE_HTML 1u   /* answers with HTML pages, not JSON errors */
#define WSP_ROUTE_DEMO 2u   /* the demo's (hello-todo): exists only with `demo = on` */
#define WSP_ROUTE_ANON_RATE 4u /* an anonymous caller is held to `anon_write_rate` (429) */

extern const wsp_route wsp_routes[];
extern const size_t wsp_routes_count;

/* Copy the rows of wsp_routes this process serves into out[0..cap), in
 * table order: all of them when demo, else all but WSP_ROUTE_DEMO ones (so
 * their paths answer 404 like any unknown path, not 405).  Returns the count. */
size_t wsp_routes_select(int demo, wsp_route *out, size_t cap);

/* h_auth.c */
int wsp_h_login(struct wsp_ctx *ctx);
int wsp_h_logout(struct wsp_ctx *ctx);
int wsp_h_me(struct wsp_ctx *ctx);
/* h_todo.c */
int wsp_h_todo_list(struct wsp_ctx *ctx);
int wsp_h_todo_create(struct wsp_ctx *ctx);
int wsp_h_todo_toggle(struct wsp_ctx *ctx);
int wsp_h_todo_delete(struct wsp_ctx *ctx);
int wsp_h_todo_stats(struct wsp_ctx *ctx);
/* h_stats.c */
int wsp_h_health(struct wsp_ctx *ctx);
int wsp_h_ws_stats(struct wsp_ctx *ctx);
/* h_admin.c */
int wsp_h_admin_page(struct wsp_ctx *ctx);
/* h_metrics.c */
int wsp_h_metrics(struct wsp_ctx *ctx);
/* h_publish.c */
int wsp_h_publish(struct wsp_ctx *ctx);
/* h_presence.c */
int wsp_h_presence(struct wsp_ctx *ctx);

#endif
