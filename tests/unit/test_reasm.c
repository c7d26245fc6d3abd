/* test_reasm.c - a client's message from pieces, with both limits. */
#include "config.h"

#include <string.h>

#include "daemon/reasm.h"
#include "suites.h"

static void test_pieces(void)
{
	wsp_reasm r = { 0 };

	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, "{\"a\"", 4, true, false, 0, 100, 50), WSP_REASM_MORE);
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, ":1", 2, false, false, 1, 100, 50), WSP_REASM_MORE);
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, "}", 1, false, true, 0, 100, 50), WSP_REASM_DONE);
	CU_ASSERT_FALSE(r.oversize);
	CU_ASSERT_EQUAL(r.len, 7);
	CU_ASSERT_STRING_EQUAL(r.buf, "{\"a\":1}");
	wsp_reasm_done(&r);
	CU_ASSERT_EQUAL(r.len, 0);
	/* A new message starts clean. */
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, "{}", 2, true, true, 0, 100, 50), WSP_REASM_DONE);
	CU_ASSERT_STRING_EQUAL(r.buf, "{}");
	wsp_reasm_cleanup(&r);
	CU_ASSERT_PTR_NULL(r.buf);
}

static void test_limits(void)
{
	wsp_reasm r = { 0 };
	char big[40];

	memset(big, 'x', sizeof(big));
	/* Past max_message: kept going but nothing kept, answered 413 by the caller. */
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, big, 30, true, false, 0, 100, 50), WSP_REASM_MORE);
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, big, 30, false, true, 0, 100, 50), WSP_REASM_DONE);
	CU_ASSERT_TRUE(r.oversize);
	CU_ASSERT_EQUAL(r.len, 0);
	wsp_reasm_done(&r);
	CU_ASSERT_FALSE(r.oversize);
	/* Past max_frame, counting what lws has not delivered yet: close. */
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, big, 10, true, false, 91, 100, 50), WSP_REASM_TOO_BIG);
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, big, 10, true, false, 90, 100, 50), WSP_REASM_MORE);
	wsp_reasm_cleanup(&r);
}

static void test_large_buffer_not_kept(void)
{
	static char big[20000];
	wsp_reasm r = { 0 };

	memset(big, 'y', sizeof(big));
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, big, sizeof(big), true, true, 0, 100000, 100000), WSP_REASM_DONE);
	CU_ASSERT_EQUAL(r.len, sizeof(big));
	wsp_reasm_done(&r);
	CU_ASSERT_PTR_NULL(r.buf);
	CU_ASSERT_EQUAL(r.cap, 0);
	CU_ASSERT_EQUAL(wsp_reasm_feed(&r, "ab", 2, true, true, 0, 100, 100), WSP_REASM_DONE);
	wsp_reasm_done(&r);
	CU_ASSERT_PTR_NOT_NULL(r.buf);            /* a small one is */
	wsp_reasm_cleanup(&r);
}

int test_reasm_register(void)
{
	CU_pSuite s = CU_add_suite("reasm", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_pieces);
	WSP_ADD_TEST(s, test_limits);
	WSP_ADD_TEST(s, test_large_buffer_not_kept);
	return 0;
}
