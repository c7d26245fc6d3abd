/* test_rate.c - the per-client token bucket. */
#include "config.h"

#include "daemon/rate.h"
#include "suites.h"

static void test_burst_then_refuse(void)
{
	wsp_rate r;
	int ok = 0;
	long wait = 0;

	wsp_rate_init(&r, 50, 1000);
	for (int i = 0; i < 60; i++) {
		long w = wsp_rate_take(&r, 50, 1000);

		if (w == 0)
			ok++;
		else
			wait = w;
	}
	CU_ASSERT_EQUAL(ok, 50);
	CU_ASSERT_TRUE(wait >= 1 && wait <= 20);
	/* 20 ms later exactly one more token exists (50/s). */
	CU_ASSERT_EQUAL(wsp_rate_take(&r, 50, 1020), 0);
	CU_ASSERT_TRUE(wsp_rate_take(&r, 50, 1020) > 0);
}

static void test_refill_caps(void)
{
	wsp_rate r;
	int ok = 0;

	wsp_rate_init(&r, 5, 0);
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(wsp_rate_take(&r, 5, 0), 0);
	CU_ASSERT_EQUAL(wsp_rate_take(&r, 5, 0), 200);
	/* A long quiet period refills to the cap, not beyond. */
	for (int i = 0; i < 20; i++)
		ok += wsp_rate_take(&r, 5, 100000) == 0;
	CU_ASSERT_EQUAL(ok, 5);
	/* Steady sending at the rate is always allowed. */
	for (long long t = 100200; t < 110000; t += 200)
		CU_ASSERT_EQUAL(wsp_rate_take(&r, 5, t), 0);
}

int test_rate_register(void)
{
	CU_pSuite s = CU_add_suite("rate", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_burst_then_refuse);
	WSP_ADD_TEST(s, test_refill_caps);
	return 0;
}
