/* fuzz_rest.c - one REST request as wspulse.fcgi sees it, as
 * newline-separated CGI parameters followed by the body:
 *   REQUEST_METHOD \n REQUEST_URI \n QUERY_STRING \n CONTENT_TYPE \n
 *   CONTENT_LENGTH \n HTTP_COOKIE \n HTTP_AUTHORIZATION \n REMOTE_ADDR \n
 *   HTTP_X_REAL_IP \n HTTP_X_FORWARDED_FOR \n body...
 * It goes through wsp_request_init / _read_body (a 1 KiB limit), the route
 * table (the same patterns as fcgi/routes.c), the validators on the route
 * parameter and the JSON body's fields, the response renderer, and the
 * admin page renderer with the body as its stats JSON. */
#include "config.h"

#include <jansson.h>

#include "fcgi/admin_page.h"
#include "fcgi/buf.h"
#include "fcgi/html.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"
#include "fcgi/validate.h"
#include "fuzz.h"

#define NPARAM 10
/* The forwarding headers are believed from these peers (REMOTE_ADDR is one
 * of the fuzzed parameters), so the X-Forwarded-For walk is reached. */
static char *trusted[] = { "127.0.0.0/8", "::1", "10.0.0.0/8", NULL };

static const char *const names[NPARAM] = {
	"REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
	"HTTP_COOKIE", "HTTP_AUTHORIZATION", "REMOTE_ADDR", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_FOR",
};

/* The patterns of fcgi/routes.c; the handler is never called. */
static const wsp_route routes[] = {
	{ "GET", "/api/1/health", NULL, 0 },
	{ "POST", "/api/1/auth/login", NULL, 0 },
	{ "POST", "/api/1/auth/logout", NULL, 0 },
	{ "GET", "/api/1/auth/me", NULL, 0 },
	{ "GET", "/api/1/helloTodo", NULL, 0 },
	{ "POST", "/api/1/helloTodo", NULL, 0 },
	{ "GET", "/api/1/helloTodo/stats", NULL, 0 },
	{ "PUT", "/api/1/helloTodo/:id/toggle", NULL, 0 },
	{ "DELETE", "/api/1/helloTodo/:id", NULL, 0 },
	{ "GET", "/api/1/websocket/stats", NULL, 0 },
	{ "POST", "/api/1/websocket/publish", NULL, 0 },
	{ "GET", "/api/1/websocket/presence", NULL, 0 },
	{ "GET", "/admin/websocket-stats.shtml", NULL, 1 },
	{ "GET", "/admin/websocket-status.shtml", NULL, 1 },
};

struct input {
	char *param[NPARAM];
	const uint8_t *body;
	size_t body_len, pos;
};

static const char *param(const char *name, void *ud)
{
	struct input *in = ud;

	for (int i = 0; i < NPARAM; i++)
		if (strcmp(name, names[i]) == 0)
			return in->param[i][0] ? in->param[i] : NULL;
	return NULL;
}

static long reader(void *ud, char *buf, size_t n)
{
	struct input *in = ud;
	size_t left = in->body_len - in->pos;

	if (n > 7)
		n = 7; /* short reads, as a socket gives them */
	if (n > left)
		n = left;
	memcpy(buf, in->body + in->pos, n);
	in->pos += n;
	return (long)n;
}

static void check_string_field(json_t *body, const char *key)
{
	const char *s = json_string_value(json_object_get(body, key));
	char out[4 * WSP_TODO_TITLE_MAX + 1];
	wsp_error err;

	if (!s)
		return;
	wsp_error_init(&err);
	if (wsp_valid_todo_title(s, json_string_length(json_object_get(body, key)), out, sizeof(out),
				 &err) == 0 && !wsp_utf8_valid(out, strlen(out)))
		abort();
	(void)wsp_valid_username(s);
	(void)wsp_valid_namespace(s);
	(void)wsp_valid_client_id(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { 0 };
	wsp_request rq;
	wsp_route_match m;
	wsp_response resp;
	wsp_buf out;
	wsp_error err;
	size_t len;
	const char *v;

	for (int i = 0; i < NPARAM; i++)
		in.param[i] = fuzz_take_line(&data, &size);
	in.body = data;
	in.body_len = size;

	if (wsp_request_init(&rq, param, &in, trusted) < 0)
		abort();
	wsp_error_init(&err);
	(void)wsp_content_type_is_json(rq.content_type);
	{
		long v = 0;

		(void)wsp_query_long(rq.query, "limit", 1, 500, &v);
		(void)wsp_query_long(rq.query, "offset", 0, 1000000000L, &v);
	}
	(void)wsp_request_cookie(&rq, "wsp_session", &len);
	if (rq.authorization && (v = wsp_bearer_token(rq.authorization, &len)) &&
	    (v < rq.authorization || v + len > rq.authorization + strlen(rq.authorization)))
		abort();
	if (wsp_router_match(routes, sizeof(routes) / sizeof(routes[0]), rq.method, rq.path, &m) ==
	    WSP_ROUTE_FOUND && (v = wsp_route_param(&m, "id", &len))) {
		long long id;

		if (wsp_parse_id(v, len, &id) == 0 && id < 1)
			abort();
	}
	wsp_response_init(&resp);
	wsp_buf_init(&out);
	if (wsp_request_read_body(&rq, reader, &in, 1024, &err) == 0) {
		json_t *body = json_loadb(rq.body, rq.body_len, JSON_REJECT_DUPLICATES, NULL);

		if (rq.body[rq.body_len] != '\0')
			abort();
		if (json_is_object(body)) {
			check_string_field(body, "title");
			check_string_field(body, "username");
			check_string_field(body, "namespace");
			check_string_field(body, "clientId");
			if (wsp_admin_page_render(&out, body, "admin", rq.path) < 0)
				abort();
		}
		if (body && wsp_response_success(&resp, json_incref(body), NULL) < 0)
			abort();
		json_decref(body);
	} else {
		wsp_response_from_error(&resp, &err, rq.path);
	}
	wsp_buf_reset(&out);
	wsp_html_escape_n(&out, rq.path, strlen(rq.path));
	wsp_url_encode(&out, rq.query);
	/* Nothing from a request may split the response. */
	if (wsp_response_header(&resp, "X-Echo", rq.query) == 0 && strpbrk(rq.query, "\r\n"))
		abort();
	if (rq.cookie) {
		wsp_cookie c = { "wsp_session", rq.cookie, 60, 0 };

		if (wsp_response_cookie(&resp, &c) == 0 && strpbrk(rq.cookie, "\r\n;, "))
			abort();
	}
	wsp_response_render(&resp, &out);
	wsp_buf_cleanup(&out);
	wsp_response_cleanup(&resp);
	wsp_request_cleanup(&rq);
	for (int i = 0; i < NPARAM; i++)
		free(in.param[i]);
	return 0;
}
