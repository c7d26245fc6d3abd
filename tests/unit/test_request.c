/* test_request.c - CGI parameters, client address, HTTPS, body cap, cookies. */
#include "config.h"

#include <string.h>

#include "fcgi/request.h"
#include "alloc.h"
#include "suites.h"

static const char *lookup(const char *name, void *ud)
{
	for (const char *const *p = ud; *p; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

struct src {
	const char *data;
	size_t len, pos, chunk;
};

static long rd(void *ud, char *buf, size_t n)
{
	struct src *s = ud;
	size_t k = s->len - s->pos;

	if (k > n)
		k = n;
	if (k > s->chunk)
		k = s->chunk;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	return (long)k;
}

static void test_params(void)
{
	const char *env[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", "/api/1/helloTodo?x=1#f",
			      "QUERY_STRING", "x=1", "CONTENT_TYPE", "application/json",
			      "CONTENT_LENGTH", "12", "HTTP_COOKIE", "a=1; wsp_session=v1.x.y; b=2",
			      "REMOTE_ADDR", "192.0.2.7", "HTTP_X_FORWARDED_FOR", "10.0.0.1",
			      "HTTP_X_FORWARDED_PROTO", "https", NULL };
	wsp_request rq;
	const char *c;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(wsp_request_init(&rq, lookup, env, NULL), 0);
	CU_ASSERT_STRING_EQUAL(rq.method, "POST");
	CU_ASSERT_STRING_EQUAL(rq.path, "/api/1/helloTodo");
	CU_ASSERT_STRING_EQUAL(rq.query, "x=1");
	CU_ASSERT_EQUAL(rq.content_length, 12);
	/* Not from a local proxy: forwarding headers are ignored. */
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "192.0.2.7");
	CU_ASSERT_FALSE(rq.secure);
	c = wsp_request_cookie(&rq, "wsp_session", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_NSTRING_EQUAL(c, "v1.x.y;", 6);
	wsp_request_cleanup(&rq);
}

static void test_trusted_proxies(void)
{
	const char *env[] = { "REQUEST_URI", "/a", "REMOTE_ADDR", "127.0.0.1",
			      "HTTP_X_FORWARDED_FOR", "6.6.6.6, 203.0.113.9",
			      "HTTP_X_FORWARDED_PROTO", "https", NULL };
	const char *env2[] = { "REQUEST_URI", "/a", "REMOTE_ADDR", "::1", "HTTPS", "on",
			       "HTTP_X_REAL_IP", "198.51.100.1", NULL };
	const char *env3[] = { "REQUEST_URI", "/a", "REMOTE_ADDR", "127.0.0.1",
			       "HTTP_X_FORWARDED_FOR", "not an address\r\nX: y", NULL };
	/* A chain: client 203.0.113.9 -> LB 10.0.0.5 -> proxy 10.0.0.6 -> us. */
	const char *env4[] = { "REQUEST_URI", "/a", "REMOTE_ADDR", "10.0.0.6",
			       "HTTP_X_FORWARDED_FOR", "6.6.6.6, 203.0.113.9, 10.0.0.5", NULL };
	const char *env5[] = { "REQUEST_URI", "/a", "REMOTE_ADDR", "::ffff:127.0.0.1",
			       "HTTP_X_REAL_IP", "198.51.100.2", NULL };
	char *none[] = { NULL };
	char *local[] = { "127.0.0.0/8", "::1", NULL };
	char *lan[] = { "10.0.0.0/24", NULL };
	wsp_request rq;

	/* Default (no trusted proxies): even a loopback peer's headers are
	 * ignored, the client is REMOTE_ADDR and X-Forwarded-Proto is not HTTPS. */
	wsp_request_init(&rq, lookup, env, NULL);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "127.0.0.1");
	CU_ASSERT_FALSE(rq.secure);
	wsp_request_cleanup(&rq);
	wsp_request_init(&rq, lookup, env, none);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "127.0.0.1");
	wsp_request_cleanup(&rq);
	wsp_request_init(&rq, lookup, env2, NULL);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "::1");
	CU_ASSERT_TRUE(rq.secure);   /* HTTPS from the web server itself */
	wsp_request_cleanup(&rq);
	/* Configured: believed from those peers only. */
	wsp_request_init(&rq, lookup, env, local);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "203.0.113.9");
	CU_ASSERT_TRUE(rq.secure);
	CU_ASSERT_STRING_EQUAL(rq.method, "GET");
	wsp_request_cleanup(&rq);
	wsp_request_init(&rq, lookup, env2, local);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "198.51.100.1");
	wsp_request_cleanup(&rq);
	wsp_request_init(&rq, lookup, env5, local);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "198.51.100.2");
	wsp_request_cleanup(&rq);
	wsp_request_init(&rq, lookup, env3, local);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "127.0.0.1");
	wsp_request_cleanup(&rq);
	wsp_request_init(&rq, lookup, env, lan);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "127.0.0.1");
	CU_ASSERT_FALSE(rq.secure);
	wsp_request_cleanup(&rq);
	/* Trusted hops are skipped from the right; what the client wrote
	 * further left (6.6.6.6) is never used. */
	wsp_request_init(&rq, lookup, env4, lan);
	CU_ASSERT_STRING_EQUAL(rq.client_addr, "203.0.113.9");
	wsp_request_cleanup(&rq);
}

static void test_limit_key(void)
{
	char k[WSP_ADDR_MAX];

	wsp_limit_key("198.51.100.7", k, sizeof(k));
	CU_ASSERT_STRING_EQUAL(k, "198.51.100.7");
	wsp_limit_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof(k));
	CU_ASSERT_STRING_EQUAL(k, "2001:db8:1:2::/64");
	wsp_limit_key("2001:DB8:1:2::1", k, sizeof(k));
	CU_ASSERT_STRING_EQUAL(k, "2001:db8:1:2::/64");
	wsp_limit_key("::1", k, sizeof(k));
	CU_ASSERT_STRING_EQUAL(k, "::/64");
	wsp_limit_key("::ffff:192.0.2.1", k, sizeof(k));
	CU_ASSERT_STRING_EQUAL(k, "192.0.2.1");
	wsp_limit_key("unknown", k, sizeof(k));
	CU_ASSERT_STRING_EQUAL(k, "unknown");
	wsp_limit_key("1:2:3", k, sizeof(k));
	CU_ASSERT_STRING_EQUAL(k, "1:2:3");
}

static void test_body(void)
{
	const char *env[] = { "REQUEST_URI", "/a", "CONTENT_LENGTH", "11", NULL };
	const char *env_nolen[] = { "REQUEST_URI", "/a", NULL };
	const char *env_big[] = { "REQUEST_URI", "/a", "CONTENT_LENGTH", "5000", NULL };
	struct src s = { "{\"a\":\"bcd\"}", 11, 0, 3 };
	static char big[5000];
	wsp_request rq;
	wsp_error err;

	wsp_request_init(&rq, lookup, env, NULL);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_request_read_body(&rq, rd, &s, 1024, &err), 0);
	CU_ASSERT_EQUAL(rq.body_len, 11);
	CU_ASSERT_STRING_EQUAL(rq.body, "{\"a\":\"bcd\"}");
	wsp_request_cleanup(&rq);

	/* Declared length over the cap: refused and drained. */
	memset(big, 'x', sizeof(big));
	s = (struct src){ big, sizeof(big), 0, 1000 };
	wsp_request_init(&rq, lookup, env_big, NULL);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_request_read_body(&rq, rd, &s, 1024, &err), WSP_ERR_TOOBIG);
	CU_ASSERT_EQUAL(s.pos, sizeof(big));
	CU_ASSERT_PTR_NULL(rq.body);
	wsp_request_cleanup(&rq);

	/* No declared length: the cap still holds. */
	s = (struct src){ big, sizeof(big), 0, 700 };
	wsp_request_init(&rq, lookup, env_nolen, NULL);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_request_read_body(&rq, rd, &s, 1024, &err), WSP_ERR_TOOBIG);
	wsp_request_cleanup(&rq);
	s = (struct src){ big, 1024, 0, 700 };
	wsp_request_init(&rq, lookup, env_nolen, NULL);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_request_read_body(&rq, rd, &s, 1024, &err), 0);
	CU_ASSERT_EQUAL(rq.body_len, 1024);
	wsp_request_cleanup(&rq);

	/* Empty body. */
	s = (struct src){ "", 0, 0, 1 };
	wsp_request_init(&rq, lookup, env_nolen, NULL);
	CU_ASSERT_EQUAL(wsp_request_read_body(&rq, rd, &s, 1024, NULL), 0);
	CU_ASSERT_STRING_EQUAL(rq.body, "");
	wsp_request_cleanup(&rq);
}

static void test_out_of_memory(void)
{
	const char *env[] = { "REQUEST_URI", "/api/1/x", "CONTENT_LENGTH", "11", NULL };

	for (long n = 0; n < 6; n++) {
		struct src s = { "{\"a\":\"bcd\"}", 11, 0, 3 };
		wsp_request rq;
		wsp_error err;
		int rc;

		wsp_error_init(&err);
		wsp_alloc_fail_after(n);
		rc = wsp_request_init(&rq, lookup, env, NULL);
		if (rc == 0)
			rc = wsp_request_read_body(&rq, rd, &s, 1024, &err);
		wsp_alloc_fail_after(-1);
		CU_ASSERT_TRUE(rc == 0 || rc == WSP_ERR_NOMEM);
		if (rc == 0)
			CU_ASSERT_STRING_EQUAL(rq.body, "{\"a\":\"bcd\"}");
		wsp_request_cleanup(&rq);
	}
}

int test_request_register(void)
{
	CU_pSuite s = CU_add_suite("request", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_params);
	WSP_ADD_TEST(s, test_trusted_proxies);
	WSP_ADD_TEST(s, test_limit_key);
	WSP_ADD_TEST(s, test_body);
	WSP_ADD_TEST(s, test_out_of_memory);
	return 0;
}
