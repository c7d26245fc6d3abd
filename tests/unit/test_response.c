/* test_response.c - the JSON envelope, the error mapping, header safety,
 * cookies and rendering. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "fcgi/response.h"
#include "alloc.h"
#include "suites.h"

static json_t *body_of(const wsp_response *r)
{
	return json_loadb(wsp_buf_str(&r->body), r->body.len, 0, NULL);
}

static void test_success(void)
{
	wsp_response r;
	json_t *j;

	wsp_response_init(&r);
	CU_ASSERT_EQUAL(wsp_response_success(&r, json_pack("{s:i}", "id", 7), json_pack("{s:s}", "message", "ok")), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	j = body_of(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_TRUE(json_is_true(json_object_get(j, "success")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(j, "data"), "id")), 7);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "message")), "ok");
	CU_ASSERT_PTR_NOT_NULL(strstr(wsp_buf_str(&r.headers), "Content-Type: application/json"));
	json_decref(j);
	wsp_response_cleanup(&r);
}

static void test_error_envelope(void)
{
	wsp_response r;
	json_t *j;

	wsp_response_init(&r);
	wsp_response_error(&r, 404, "Todo not found", "HELLO_TODO_NOT_FOUND", "/api/1/helloTodo/9",
			   json_pack("{s:i}", "retryAfter", 3));
	CU_ASSERT_EQUAL(r.status, 404);
	j = body_of(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_TRUE(json_is_false(json_object_get(j, "success")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "error")), "Todo not found");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "code")), "HELLO_TODO_NOT_FOUND");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "path")), "/api/1/helloTodo/9");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "retryAfter")), 3);
	json_decref(j);
	/* A path that is not UTF-8 is left out rather than breaking the JSON. */
	wsp_response_reset(&r);
	wsp_response_error(&r, 404, "Not found", "NOT_FOUND", "/x\xff", NULL);
	j = body_of(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_PTR_NULL(json_object_get(j, "path"));
	json_decref(j);
	wsp_response_cleanup(&r);
}

static void test_error_mapping(void)
{
	static const struct { int code; int status; const char *api; } cases[] = {
		{ WSP_ERR_INVALID, 400, "VALIDATION_ERROR" },
		{ WSP_ERR_AUTH, 401, "UNAUTHORIZED" },
		{ WSP_ERR_EXPIRED, 401, "SESSION_EXPIRED" },
		{ WSP_ERR_FORBIDDEN, 403, "FORBIDDEN" },
		{ WSP_ERR_NOTFOUND, 404, "NOT_FOUND" },
		{ WSP_ERR_EXISTS, 409, "CONFLICT" },
		{ WSP_ERR_TOOBIG, 413, "PAYLOAD_TOO_LARGE" },
		{ WSP_ERR_LIMIT, 429, "TOO_MANY_REQUESTS" },
		{ WSP_ERR_DB, 503, "DATABASE_UNAVAILABLE" },
		{ WSP_ERR_INTERNAL, 500, "INTERNAL_ERROR" },
		{ WSP_ERR_NOMEM, 500, "INTERNAL_ERROR" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wsp_response r;
		wsp_error e;
		json_t *j;

		wsp_error_init(&e);
		wsp_error_set(&e, cases[i].code, "detail host=/tmp/secret-socket SQL");
		wsp_response_init(&r);
		CU_ASSERT_EQUAL(wsp_response_from_error(&r, &e, "/api/1/x"), 0);
		CU_ASSERT_EQUAL(r.status, cases[i].status);
		j = body_of(&r);
		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "code")), cases[i].api);
		/* Internal details never leave for 5xx. */
		if (cases[i].status >= 500) {
			CU_ASSERT_PTR_NULL(strstr(wsp_buf_str(&r.body), "secret-socket"));
		} else {
			CU_ASSERT_PTR_NOT_NULL(strstr(wsp_buf_str(&r.body), "detail"));
		}
		json_decref(j);
		wsp_response_cleanup(&r);
	}
}

static void test_header_injection(void)
{
	wsp_response r;

	wsp_response_init(&r);
	CU_ASSERT_EQUAL(wsp_response_header(&r, "Location", "/ok"), 0);
	CU_ASSERT_EQUAL(wsp_response_header(&r, "Location", "/x\r\nSet-Cookie: evil=1"), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_response_header(&r, "X-A", "a\nb"), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_response_header(&r, "Bad Name", "v"), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_response_header(&r, "X:Y", "v"), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_response_header(&r, "", "v"), WSP_ERR_INVALID);
	CU_ASSERT_TRUE(r.bad_header);
	CU_ASSERT_PTR_NULL(strstr(wsp_buf_str(&r.headers), "evil"));
	CU_ASSERT_EQUAL(wsp_response_redirect(&r, "/login/?next=\r\nX: y"), WSP_ERR_INVALID);
	wsp_response_cleanup(&r);
}

static void test_cookie(void)
{
	wsp_response r;
	wsp_cookie c = { "wsp_session", "v1.abc.123", 3600, 0, NULL };

	wsp_response_init(&r);
	CU_ASSERT_EQUAL(wsp_response_cookie(&r, &c), 0);
	CU_ASSERT_STRING_EQUAL(wsp_buf_str(&r.headers),
			       "Set-Cookie: wsp_session=v1.abc.123; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600\r\n");
	wsp_response_reset(&r);
	c.secure = 1;
	c.value = "";
	c.max_age = 0;
	CU_ASSERT_EQUAL(wsp_response_cookie(&r, &c), 0);
	CU_ASSERT_STRING_EQUAL(wsp_buf_str(&r.headers),
			       "Set-Cookie: wsp_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure\r\n");
	wsp_response_reset(&r);
	c.value = "a;b";
	CU_ASSERT_EQUAL(wsp_response_cookie(&r, &c), WSP_ERR_INVALID);
	c.value = "a\r\nb";
	CU_ASSERT_EQUAL(wsp_response_cookie(&r, &c), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(r.headers.len, 0);
	wsp_response_cleanup(&r);
}

/* cookie_domain: Domain= is added, and only a host name gets through. */
static void test_cookie_domain(void)
{
	wsp_response r;
	wsp_cookie c = { "wsp_session", "v1.abc.123", 60, 1, ".example.com" };
	static const char *const good[] = { ".example.com", "example.com", "ws.example.com", "localhost",
					    "a-b.c1.example", "x", NULL };
	static const char *const bad[] = { "", ".", "..example.com", "example..com", "example.com.",
					   "-a.example.com", "a-.example.com", "exa mple.com",
					   "example.com; Secure", "ex\r\nample", "ex_ample.com", NULL };

	for (int i = 0; good[i]; i++)
		CU_ASSERT_TRUE(wsp_cookie_domain_ok(good[i]));
	for (int i = 0; bad[i]; i++)
		CU_ASSERT_FALSE(wsp_cookie_domain_ok(bad[i]));
	wsp_response_init(&r);
	CU_ASSERT_EQUAL(wsp_response_cookie(&r, &c), 0);
	CU_ASSERT_STRING_EQUAL(wsp_buf_str(&r.headers),
			       "Set-Cookie: wsp_session=v1.abc.123; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure; Domain=.example.com\r\n");
	wsp_response_reset(&r);
	c.domain = "example.com; Path=/x";
	CU_ASSERT_EQUAL(wsp_response_cookie(&r, &c), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(r.headers.len, 0);
	wsp_response_reset(&r);
	c.domain = "";
	CU_ASSERT_EQUAL(wsp_response_cookie(&r, &c), 0);
	CU_ASSERT_PTR_NULL(strstr(wsp_buf_str(&r.headers), "Domain"));
	wsp_response_cleanup(&r);
}

static void test_render(void)
{
	wsp_response r;
	wsp_buf out;

	wsp_response_init(&r);
	wsp_buf_init(&out);
	/* Nothing set: a 500 JSON fallback, never an empty answer. */
	wsp_response_render(&r, &out);
	CU_ASSERT_EQUAL(strncmp(wsp_buf_str(&out), "Status: 500 ", 12), 0);
	wsp_buf_reset(&out);
	wsp_response_error(&r, 405, "Method not allowed", "METHOD_NOT_ALLOWED", "/p", NULL);
	wsp_response_header(&r, "Allow", "GET, POST");
	wsp_response_render(&r, &out);
	CU_ASSERT_EQUAL(strncmp(wsp_buf_str(&out), "Status: 405 Method Not Allowed\r\n", 32), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(wsp_buf_str(&out), "\r\nAllow: GET, POST\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(wsp_buf_str(&out), "\r\n\r\n{\"success\":false"));
	wsp_buf_cleanup(&out);
	wsp_response_cleanup(&r);
}

/* Every allocation failure in building and rendering leaves either the
 * intended answer or the 500 fallback, never a crash or a half answer. */
static void test_out_of_memory(void)
{
	for (long n = 0; n < 40; n++) {
		wsp_response r;
		wsp_buf out;
		wsp_cookie c = { "wsp_session", "v1.x", 60, 1, NULL };
		int rc;

		wsp_response_init(&r);
		wsp_buf_init(&out);
		wsp_alloc_fail_after(n);
		wsp_response_error(&r, 404, "Todo not found", "HELLO_TODO_NOT_FOUND", "/p", NULL);
		wsp_response_cookie(&r, &c);
		rc = wsp_response_render(&r, &out);
		wsp_alloc_fail_after(-1);
		if (rc == 0) {
			CU_ASSERT_EQUAL(strncmp(wsp_buf_str(&out), "Status: ", 8), 0);
			CU_ASSERT_TRUE(strncmp(wsp_buf_str(&out), "Status: 404 ", 12) == 0 ||
				       strncmp(wsp_buf_str(&out), "Status: 500 ", 12) == 0);
		} else {
			CU_ASSERT_EQUAL(rc, WSP_ERR_NOMEM);
		}
		wsp_buf_cleanup(&out);
		wsp_response_cleanup(&r);
	}
}

int test_response_register(void)
{
	CU_pSuite s = CU_add_suite("response", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_success);
	WSP_ADD_TEST(s, test_error_envelope);
	WSP_ADD_TEST(s, test_error_mapping);
	WSP_ADD_TEST(s, test_header_injection);
	WSP_ADD_TEST(s, test_cookie);
	WSP_ADD_TEST(s, test_cookie_domain);
	WSP_ADD_TEST(s, test_render);
	WSP_ADD_TEST(s, test_out_of_memory);
	return 0;
}
