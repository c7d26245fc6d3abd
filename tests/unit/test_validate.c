/* test_validate.c - titles, ids, names, namespaces, content types, bearer. */
#include "config.h"

#include <string.h>

#include "suites.h"
#include "fcgi/validate.h"

static int title(const char *in, size_t len, char *out)
{
	wsp_error err;

	wsp_error_init(&err);
	return wsp_valid_todo_title(in, len, out, 4 * WSP_TODO_TITLE_MAX + 1, &err);
}

static void test_title(void)
{
	char out[4 * WSP_TODO_TITLE_MAX + 1], big[1000];

	CU_ASSERT_EQUAL(title("  Buy milk \t\n", 13, out), 0);
	CU_ASSERT_STRING_EQUAL(out, "Buy milk");
	CU_ASSERT_EQUAL(title("", 0, out), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(title("   ", 3, out), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(title("a\0b", 3, out), WSP_ERR_INVALID);            /* embedded NUL */
	CU_ASSERT_EQUAL(title("a\x01" "b", 3, out), WSP_ERR_INVALID);       /* control char */
	CU_ASSERT_EQUAL(title("line\nbreak", 10, out), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(title("\xC3\x28", 2, out), WSP_ERR_INVALID);        /* bad UTF-8 */
	CU_ASSERT_EQUAL(title("\xED\xA0\x80", 3, out), WSP_ERR_INVALID);    /* surrogate */
	CU_ASSERT_EQUAL(title("<script>alert(1)</script>", 25, out), 0);    /* escaped on output, not here */
	memset(big, 'x', 200);
	CU_ASSERT_EQUAL(title(big, 200, out), 0);
	CU_ASSERT_EQUAL(strlen(out), 200);
	memset(big, 'x', 201);
	CU_ASSERT_EQUAL(title(big, 201, out), WSP_ERR_INVALID);
	/* 200 two-byte characters are 200 characters, not 400. */
	for (int i = 0; i < 200; i++)
		memcpy(big + 2 * i, "\xC3\xA9", 2);
	CU_ASSERT_EQUAL(title(big, 400, out), 0);
	memcpy(big + 400, "\xC3\xA9", 2);
	CU_ASSERT_EQUAL(title(big, 402, out), WSP_ERR_INVALID);
	/* Emoji (4 bytes) are one character each. */
	CU_ASSERT_EQUAL(title("\xF0\x9F\x9A\x80 go", 7, out), 0);
}

static void test_id(void)
{
	long long id;

	CU_ASSERT_EQUAL(wsp_parse_id("1", 1, &id), 0);
	CU_ASSERT_EQUAL(id, 1);
	CU_ASSERT_EQUAL(wsp_parse_id("9223372036854775807", 19, &id), 0);
	CU_ASSERT_EQUAL(id, 9223372036854775807LL);
	CU_ASSERT_EQUAL(wsp_parse_id("9223372036854775808", 19, &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_parse_id("99999999999999999999", 20, &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_parse_id("0", 1, &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_parse_id("01", 2, &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_parse_id("-1", 2, &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_parse_id("+1", 2, &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_parse_id("1 OR 1=1", 8, &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_parse_id("abc", 3, &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_parse_id("", 0, &id), WSP_ERR_INVALID);
	/* Only len bytes count. */
	CU_ASSERT_EQUAL(wsp_parse_id("12/toggle", 2, &id), 0);
	CU_ASSERT_EQUAL(id, 12);
}

static void test_names(void)
{
	CU_ASSERT_TRUE(wsp_valid_username("alice"));
	CU_ASSERT_TRUE(wsp_valid_username("a.b@c-d_e"));
	CU_ASSERT_FALSE(wsp_valid_username(""));
	CU_ASSERT_FALSE(wsp_valid_username("bad name"));
	CU_ASSERT_FALSE(wsp_valid_username("x'; DROP TABLE wsp_users; --"));
	CU_ASSERT_FALSE(wsp_valid_username(NULL));
	CU_ASSERT_TRUE(wsp_valid_client_id("0f8fad5b-d9cb-469f-a165-70867728950e"));
	CU_ASSERT_FALSE(wsp_valid_client_id(""));
	CU_ASSERT_FALSE(wsp_valid_client_id("a b"));
}

static void test_namespace(void)
{
	CU_ASSERT_TRUE(wsp_valid_namespace("/api/1/ws/hello-todo"));
	CU_ASSERT_TRUE(wsp_valid_namespace("/api/1/ws/team/chat_2"));
	CU_ASSERT_FALSE(wsp_valid_namespace("/api/1/ws/"));
	CU_ASSERT_FALSE(wsp_valid_namespace("/api/1/ws"));
	CU_ASSERT_FALSE(wsp_valid_namespace("/api/1/other/x"));
	CU_ASSERT_FALSE(wsp_valid_namespace("/api/1/ws/a//b"));
	CU_ASSERT_FALSE(wsp_valid_namespace("/api/1/ws/../x"));
	CU_ASSERT_FALSE(wsp_valid_namespace("/api/1/ws/x/"));
	CU_ASSERT_FALSE(wsp_valid_namespace("/api/1/ws/x?y=1"));
	CU_ASSERT_FALSE(wsp_valid_namespace("/api/1/ws/<b>"));
	CU_ASSERT_FALSE(wsp_valid_namespace(NULL));
}

static void test_content_type(void)
{
	CU_ASSERT_TRUE(wsp_content_type_is_json("application/json"));
	CU_ASSERT_TRUE(wsp_content_type_is_json("Application/JSON; charset=utf-8"));
	CU_ASSERT_TRUE(wsp_content_type_is_json("application/json;charset=UTF-8"));
	CU_ASSERT_FALSE(wsp_content_type_is_json("application/jsonp"));
	CU_ASSERT_FALSE(wsp_content_type_is_json("text/plain"));
	CU_ASSERT_FALSE(wsp_content_type_is_json("application/x-www-form-urlencoded"));
	CU_ASSERT_FALSE(wsp_content_type_is_json(""));
	CU_ASSERT_FALSE(wsp_content_type_is_json(NULL));
}

static void test_bearer(void)
{
	size_t len = 0;
	const char *t = wsp_bearer_token("Bearer abc123 ", &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_NSTRING_EQUAL(t, "abc123", 6);
	CU_ASSERT_PTR_NOT_NULL(wsp_bearer_token("bearer x", &len));
	CU_ASSERT_PTR_NULL(wsp_bearer_token("Basic dXNlcjpwYXNz", &len));
	CU_ASSERT_PTR_NULL(wsp_bearer_token("Bearer", &len));
	CU_ASSERT_PTR_NULL(wsp_bearer_token("Bearer   ", &len));
	CU_ASSERT_PTR_NULL(wsp_bearer_token("Bearerx", &len));
	CU_ASSERT_PTR_NULL(wsp_bearer_token(NULL, &len));
}

int test_validate_register(void)
{
	CU_pSuite s = CU_add_suite("validate", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_title);
	WSP_ADD_TEST(s, test_id);
	WSP_ADD_TEST(s, test_names);
	WSP_ADD_TEST(s, test_namespace);
	WSP_ADD_TEST(s, test_content_type);
	WSP_ADD_TEST(s, test_bearer);
	return 0;
}
