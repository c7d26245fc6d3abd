/* test_query.c - upgrade query strings. */
#include "config.h"

#include <string.h>

#include "daemon/query.h"
#include "error.h"
#include "suites.h"

static void test_get(void)
{
	char v[64];

	CU_ASSERT_EQUAL(wsp_query_get("uuid=abc&since=12", "uuid", v, sizeof(v)), 3);
	CU_ASSERT_STRING_EQUAL(v, "abc");
	CU_ASSERT_EQUAL(wsp_query_get("uuid=abc&since=12", "since", v, sizeof(v)), 2);
	CU_ASSERT_STRING_EQUAL(v, "12");
	CU_ASSERT_EQUAL(wsp_query_get("xuuid=1&uuid=2", "uuid", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "2");
	CU_ASSERT_EQUAL(wsp_query_get("a=%41%2d+b", "a", v, sizeof(v)), 4);
	CU_ASSERT_STRING_EQUAL(v, "A- b");
	CU_ASSERT_EQUAL(wsp_query_get("flag&x=1", "flag", v, sizeof(v)), 0);
	CU_ASSERT_EQUAL(wsp_query_get("x=1", "uuid", v, sizeof(v)), -1);
	CU_ASSERT_EQUAL(wsp_query_get(NULL, "uuid", v, sizeof(v)), -1);
	CU_ASSERT_EQUAL(wsp_query_get("a=%4", "a", v, sizeof(v)), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_query_get("a=%00", "a", v, sizeof(v)), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_query_get("a=123456", "a", v, 4), WSP_ERR_TOOBIG);
	CU_ASSERT_EQUAL(wsp_query_get("a=1;b=2", "b", v, sizeof(v)), 1);
}

static void test_id(void)
{
	long long id = -1;

	CU_ASSERT_EQUAL(wsp_query_id("0", &id), 0);
	CU_ASSERT_EQUAL(id, 0);
	CU_ASSERT_EQUAL(wsp_query_id("9007199254740992", &id), 0);
	CU_ASSERT_EQUAL(wsp_query_id("99999999999999999999", &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_query_id("-1", &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_query_id("", &id), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_query_id("12a", &id), WSP_ERR_INVALID);
}

int test_query_register(void)
{
	CU_pSuite s = CU_add_suite("query", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_get);
	WSP_ADD_TEST(s, test_id);
	return 0;
}
