/* test_router.c - route table matching, params, 404 and 405 with Allow. */
#include "config.h"

#include <string.h>

#include "fcgi/router.h"
#include "suites.h"

static int h1(struct wsp_ctx *c) { (void)c; return 1; }
static int h2(struct wsp_ctx *c) { (void)c; return 2; }
static int h3(struct wsp_ctx *c) { (void)c; return 3; }
static int h4(struct wsp_ctx *c) { (void)c; return 4; }
static int h5(struct wsp_ctx *c) { (void)c; return 5; }

static const wsp_route table[] = {
	{ "GET", "/api/1/helloTodo", h1, 0 },
	{ "POST", "/api/1/helloTodo", h2, 0 },
	{ "GET", "/api/1/helloTodo/stats", h3, 0 },
	{ "PUT", "/api/1/helloTodo/:id/toggle", h4, 0 },
	{ "DELETE", "/api/1/helloTodo/:id", h5, 0 },
	{ "GET", "/", h1, 0 },
};
#define N (sizeof(table) / sizeof(table[0]))

static void test_exact_and_method(void)
{
	wsp_route_match m;

	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "/api/1/helloTodo", &m), WSP_ROUTE_FOUND);
	CU_ASSERT_PTR_EQUAL(m.route, &table[0]);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "POST", "/api/1/helloTodo", &m), WSP_ROUTE_FOUND);
	CU_ASSERT_PTR_EQUAL(m.route, &table[1]);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "/", &m), WSP_ROUTE_FOUND);
}

static void test_params(void)
{
	wsp_route_match m;
	const char *v;
	size_t len;

	CU_ASSERT_EQUAL(wsp_router_match(table, N, "PUT", "/api/1/helloTodo/42/toggle", &m), WSP_ROUTE_FOUND);
	CU_ASSERT_PTR_EQUAL(m.route, &table[3]);
	v = wsp_route_param(&m, "id", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(len, 2);
	CU_ASSERT_NSTRING_EQUAL(v, "42", 2);
	CU_ASSERT_PTR_NULL(wsp_route_param(&m, "other", &len));
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "DELETE", "/api/1/helloTodo/x'%20OR%201=1", &m), WSP_ROUTE_FOUND);
	v = wsp_route_param(&m, "id", &len);
	CU_ASSERT_EQUAL(len, strlen("x'%20OR%201=1"));
	/* The literal row wins for GET; DELETE still captures "stats" as :id. */
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "/api/1/helloTodo/stats", &m), WSP_ROUTE_FOUND);
	CU_ASSERT_PTR_EQUAL(m.route, &table[2]);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "DELETE", "/api/1/helloTodo/stats", &m), WSP_ROUTE_FOUND);
	CU_ASSERT_PTR_EQUAL(m.route, &table[4]);
}

static void test_not_found(void)
{
	wsp_route_match m;

	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "/api/1/helloTodo/", &m), WSP_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "/api/1/helloTod", &m), WSP_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "/api/1/helloTodoX", &m), WSP_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "PUT", "/api/1/helloTodo//toggle", &m), WSP_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "PUT", "/api/1/helloTodo/1/toggle/x", &m), WSP_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "", &m), WSP_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "api/1/helloTodo", &m), WSP_ROUTE_NOT_FOUND);
}

static void test_method_not_allowed(void)
{
	wsp_route_match m;

	CU_ASSERT_EQUAL(wsp_router_match(table, N, "PATCH", "/api/1/helloTodo", &m), WSP_ROUTE_BAD_METHOD);
	CU_ASSERT_STRING_EQUAL(m.allow, "GET, POST");
	CU_ASSERT_PTR_NULL(m.route);
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "POST", "/api/1/helloTodo/stats", &m), WSP_ROUTE_BAD_METHOD);
	CU_ASSERT_STRING_EQUAL(m.allow, "GET, DELETE");
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "GET", "/api/1/helloTodo/7/toggle", &m), WSP_ROUTE_BAD_METHOD);
	CU_ASSERT_STRING_EQUAL(m.allow, "PUT");
	/* Method names are case-sensitive (RFC 9110). */
	CU_ASSERT_EQUAL(wsp_router_match(table, N, "get", "/api/1/helloTodo", &m), WSP_ROUTE_BAD_METHOD);
}

int test_router_register(void)
{
	CU_pSuite s = CU_add_suite("router", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_exact_and_method);
	WSP_ADD_TEST(s, test_params);
	WSP_ADD_TEST(s, test_not_found);
	WSP_ADD_TEST(s, test_method_not_allowed);
	return 0;
}
