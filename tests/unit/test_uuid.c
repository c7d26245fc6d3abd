/* test_uuid.c - clientId parsing and generation. */
#include "config.h"

#include <string.h>

#include "daemon/uuid.h"
#include "suites.h"

static void test_parse(void)
{
	char out[WSP_UUID_LEN + 1];
	const char *ok = "0F8FAD5B-D9CB-469F-A165-70867728950E";

	CU_ASSERT_TRUE(wsp_uuid_parse(ok, strlen(ok), out));
	CU_ASSERT_STRING_EQUAL(out, "0f8fad5b-d9cb-469f-a165-70867728950e");
	CU_ASSERT_FALSE(wsp_uuid_parse("0f8fad5b-d9cb-469f-a165-70867728950", 35, out));
	CU_ASSERT_FALSE(wsp_uuid_parse("0f8fad5bxd9cb-469f-a165-70867728950e", 36, out));
	CU_ASSERT_FALSE(wsp_uuid_parse("0f8fad5b-d9cb-469f-a165-70867728950g", 36, out));
	CU_ASSERT_FALSE(wsp_uuid_parse("<script>alert(1)</script>aaaaaaaaaaa", 36, out));
	CU_ASSERT_FALSE(wsp_uuid_parse(NULL, 0, out));
	CU_ASSERT_FALSE(wsp_uuid_parse("", 0, out));
}

static void test_v4(void)
{
	char a[WSP_UUID_LEN + 1], b[WSP_UUID_LEN + 1];

	CU_ASSERT_EQUAL(wsp_uuid_v4(a), 0);
	CU_ASSERT_EQUAL(wsp_uuid_v4(b), 0);
	CU_ASSERT_EQUAL(strlen(a), WSP_UUID_LEN);
	CU_ASSERT_TRUE(wsp_uuid_parse(a, strlen(a), NULL));
	CU_ASSERT_EQUAL(a[14], '4');
	CU_ASSERT_PTR_NOT_NULL(strchr("89ab", a[19]));
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

int test_uuid_register(void)
{
	CU_pSuite s = CU_add_suite("uuid", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_parse);
	WSP_ADD_TEST(s, test_v4);
	return 0;
}
