/* router.h - REST routes from a table of {method, pattern, handler} rows.
 *
 * A pattern is a path of '/'-separated segments; a segment `:name` matches
 * one non-empty segment and captures it (raw, not percent-decoded).  Matching
 * is exact otherwise: no prefix matches, a trailing slash is a different path.
 * The first row (in table order) whose pattern and method match wins.  When
 * some pattern matches but no method does, the answer is "method not
 * allowed" with the list of methods for the Allow header.
 *
 * Pure: no FastCGI, no database; the handler type only names the opaque
 * per-request context of the FastCGI program.
 */
#ifndef WSP_ROUTER_H
#define WSP_ROUTER_H

#include <stddef.h>

struct wsp_ctx;

/* A route handler fills ctx's response; it returns 0 or a negative WSP_ERR_*
 * when it could not even produce an error response (the caller then answers
 * 500). */
typedef int (*wsp_handler_fn)(struct wsp_ctx *ctx);

/* One row of a route table (static, const). */
typedef struct wsp_route {
	const char *method;         /* "GET", "POST", ... */
	const char *pattern;        /* "/api/1/helloTodo/:id/toggle" */
	wsp_handler_fn handler;
	unsigned flags;             /* free for the program (e.g. JSON body wanted) */
} wsp_route;

#define WSP_ROUTE_PARAMS_MAX 4
#define WSP_ROUTE_ALLOW_MAX 96

enum wsp_route_result {
	WSP_ROUTE_FOUND = 0,
	WSP_ROUTE_NOT_FOUND = 1,     /* answer 404 */
	WSP_ROUTE_BAD_METHOD = 2,    /* answer 405 with Allow: m->allow */
};

/* The outcome of one lookup; caller-owned, points into the table and path. */
typedef struct wsp_route_match {
	const wsp_route *route;     /* the row when FOUND */
	int nparams;
	struct {
		const char *name;   /* points into the pattern, after ':' */
		size_t name_len;
		const char *value;  /* points into the path */
		size_t len;
	} params[WSP_ROUTE_PARAMS_MAX];
	char allow[WSP_ROUTE_ALLOW_MAX]; /* "GET, POST" when BAD_METHOD */
} wsp_route_match;

/* Look `method` `path` up in table[0..n).  path must not hold the query
 * string.  Returns an enum wsp_route_result and fills m. */
int wsp_router_match(const wsp_route *table, size_t n, const char *method, const char *path,
		     wsp_route_match *m);

/* Captured value of `:name`; its length in *len.  NULL when absent. */
const char *wsp_route_param(const wsp_route_match *m, const char *name, size_t *len);

#endif
