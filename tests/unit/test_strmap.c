/* test_strmap.c - the string map behind per-address counts and revocations. */
#include "config.h"

#include <stdio.h>

#include "daemon/strmap.h"
#include "suites.h"

static void test_basic(void)
{
	wsp_strmap m;
	char k[32];

	wsp_strmap_init(&m);
	CU_ASSERT_PTR_NULL(wsp_strmap_get(&m, "a"));
	CU_ASSERT_EQUAL(wsp_strmap_set(&m, "a", 5), 0);
	CU_ASSERT_EQUAL(*wsp_strmap_get(&m, "a"), 5);
	CU_ASSERT_EQUAL(wsp_strmap_add(&m, "a", -5), 0);
	CU_ASSERT_PTR_NULL(wsp_strmap_get(&m, "a"));    /* zero removes */
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "10.0.%d.%d", i / 256, i % 256);
		CU_ASSERT_EQUAL(wsp_strmap_add(&m, k, 1), 1);
	}
	CU_ASSERT_EQUAL(wsp_strmap_count(&m), 1000);
	CU_ASSERT_EQUAL(wsp_strmap_add(&m, "10.0.3.7", 1), 2);
	CU_ASSERT_TRUE(wsp_strmap_del(&m, "10.0.0.0"));
	CU_ASSERT_FALSE(wsp_strmap_del(&m, "10.0.0.0"));
	CU_ASSERT_EQUAL(wsp_strmap_count(&m), 999);
	wsp_strmap_cleanup(&m);
	CU_ASSERT_EQUAL(wsp_strmap_count(&m), 0);
}

/* What the revoked-session re-read uses to forget only what it read again. */
static void test_drop_below(void)
{
	wsp_strmap m;
	char k[32];

	wsp_strmap_init(&m);
	CU_ASSERT_EQUAL(wsp_strmap_drop_below(&m, 10), 0);   /* empty, no table yet */
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "sid%d", i);
		CU_ASSERT_EQUAL(wsp_strmap_set(&m, k, i), 0);
	}
	CU_ASSERT_EQUAL(wsp_strmap_drop_below(&m, 60), 60);
	CU_ASSERT_EQUAL(wsp_strmap_count(&m), 40);
	CU_ASSERT_PTR_NULL(wsp_strmap_get(&m, "sid59"));
	CU_ASSERT_PTR_NOT_NULL(wsp_strmap_get(&m, "sid60"));
	CU_ASSERT_PTR_NOT_NULL(wsp_strmap_get(&m, "sid99"));
	CU_ASSERT_EQUAL(wsp_strmap_drop_below(&m, 60), 0);
	CU_ASSERT_EQUAL(wsp_strmap_set(&m, "sid0", 1), 0);    /* the map still works */
	CU_ASSERT_EQUAL(wsp_strmap_count(&m), 41);
	wsp_strmap_cleanup(&m);
}

int test_strmap_register(void)
{
	CU_pSuite s = CU_add_suite("strmap", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_basic);
	WSP_ADD_TEST(s, test_drop_below);
	return 0;
}
