/* test_token.c - session cookies, roles, cookie headers. */
#include "config.h"

#include <string.h>

#include "suites.h"
#include "token.h"

static wsp_secret key(unsigned char fill)
{
	wsp_secret s;

	memset(s.key, fill, 32);
	s.len = 32;
	return s;
}

static wsp_token sample(void)
{
	wsp_token t;

	memset(&t, 0, sizeof(t));
	strcpy(t.sid, "0123456789abcdef0123456789abcdef");
	t.exp = 2000000000;
	strcpy(t.username, "alice.b@x");
	strcpy(t.roles, "admin,user");
	return t;
}

static void test_roundtrip(void)
{
	wsp_secret s = key(7);
	wsp_token t = sample(), out;
	char buf[WSP_TOKEN_MAX];
	int n = wsp_token_sign(&s, &t, buf, sizeof(buf));

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL((size_t)n, strlen(buf));
	CU_ASSERT_EQUAL(wsp_token_verify(&s, buf, (size_t)n, 1000, &out), 0);
	CU_ASSERT_STRING_EQUAL(out.sid, t.sid);
	CU_ASSERT_STRING_EQUAL(out.username, "alice.b@x");
	CU_ASSERT_STRING_EQUAL(out.roles, "admin,user");
	CU_ASSERT_EQUAL(out.exp, 2000000000);
}

static void test_tampered_rejected(void)
{
	wsp_secret s = key(7), other = key(8);
	wsp_token t = sample(), out;
	char buf[WSP_TOKEN_MAX];
	int n = wsp_token_sign(&s, &t, buf, sizeof(buf));

	CU_ASSERT_FATAL(n > 0);
	/* Wrong key. */
	CU_ASSERT_EQUAL(wsp_token_verify(&other, buf, (size_t)n, 1000, &out), WSP_ERR_INVALID);
	/* Every single-byte change is refused. */
	for (int i = 0; i < n; i++) {
		char copy[WSP_TOKEN_MAX];

		memcpy(copy, buf, (size_t)n);
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		CU_ASSERT_NOT_EQUAL(wsp_token_verify(&s, copy, (size_t)n, 1000, &out), 0);
	}
	/* Truncated. */
	CU_ASSERT_NOT_EQUAL(wsp_token_verify(&s, buf, (size_t)n - 1, 1000, &out), 0);
	CU_ASSERT_NOT_EQUAL(wsp_token_verify(&s, "", 0, 1000, &out), 0);
	CU_ASSERT_NOT_EQUAL(wsp_token_verify(&s, "v1.....", 7, 1000, &out), 0);
}

static void test_expired(void)
{
	wsp_secret s = key(7);
	wsp_token t = sample(), out;
	char buf[WSP_TOKEN_MAX];
	int n;

	t.exp = 500;
	n = wsp_token_sign(&s, &t, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(wsp_token_verify(&s, buf, (size_t)n, 499, &out), 0);
	CU_ASSERT_EQUAL(wsp_token_verify(&s, buf, (size_t)n, 500, &out), WSP_ERR_EXPIRED);
}

static void test_sign_rejects_bad_fields(void)
{
	wsp_secret s = key(1);
	wsp_token t = sample();
	char buf[WSP_TOKEN_MAX];

	strcpy(t.sid, "xyz");
	CU_ASSERT_EQUAL(wsp_token_sign(&s, &t, buf, sizeof(buf)), WSP_ERR_INVALID);
	t = sample();
	t.username[0] = '\0';
	CU_ASSERT_EQUAL(wsp_token_sign(&s, &t, buf, sizeof(buf)), WSP_ERR_INVALID);
	t = sample();
	CU_ASSERT_EQUAL(wsp_token_sign(&s, &t, buf, 10), WSP_ERR_INVALID);
}

static void test_roles_has(void)
{
	CU_ASSERT_TRUE(wsp_roles_has("admin,root", "root"));
	CU_ASSERT_TRUE(wsp_roles_has("admin", "admin"));
	CU_ASSERT_FALSE(wsp_roles_has("administrator", "admin"));
	CU_ASSERT_FALSE(wsp_roles_has("xadmin,root", "admin"));
	CU_ASSERT_FALSE(wsp_roles_has("", "admin"));
	CU_ASSERT_FALSE(wsp_roles_has("admin", ""));
}

static void test_cookie_find(void)
{
	size_t n = 0;
	const char *v = wsp_cookie_find("a=1; wsp_session=abc.def; b=2", "wsp_session", &n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_EQUAL(strncmp(v, "abc.def", n), 0);
	CU_ASSERT_PTR_NULL(wsp_cookie_find("xwsp_session=1", "wsp_session", &n));
	CU_ASSERT_PTR_NULL(wsp_cookie_find("", "wsp_session", &n));
	v = wsp_cookie_find("wsp_session=\"q\"", "wsp_session", &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(n, 1);
}

static void test_ct_equal(void)
{
	CU_ASSERT_TRUE(wsp_ct_equal("abc", 3, "abc", 3));
	CU_ASSERT_FALSE(wsp_ct_equal("abc", 3, "abd", 3));
	CU_ASSERT_FALSE(wsp_ct_equal("abc", 3, "abcd", 4));
}

int test_token_register(void)
{
	CU_pSuite s = CU_add_suite("token", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_roundtrip);
	WSP_ADD_TEST(s, test_tampered_rejected);
	WSP_ADD_TEST(s, test_expired);
	WSP_ADD_TEST(s, test_sign_rejects_bad_fields);
	WSP_ADD_TEST(s, test_roles_has);
	WSP_ADD_TEST(s, test_cookie_find);
	WSP_ADD_TEST(s, test_ct_equal);
	return CUE_SUCCESS;
}
