/* test_reader.c - the shared reader's coalescing window (reader.h). */
#include "config.h"

#include "daemon/reader.h"
#include "suites.h"

static void test_window_scales_with_workers(void)
{
	/* Up to 4 workers: the 3-ms floor, ~330 wake-ups a second each. */
	for (int n = 1; n <= 4; n++)
		CU_ASSERT_EQUAL(wsp_reader_window_ms(n), WSP_READER_COALESCE_MS);
	/* More: all of them together about WSP_READER_WAKES_PER_S a second. */
	CU_ASSERT_EQUAL(wsp_reader_window_ms(8), 6);
	CU_ASSERT_EQUAL(wsp_reader_window_ms(16), 11);
	CU_ASSERT_EQUAL(wsp_reader_window_ms(64), 43);
	for (int n = 5; n <= 256; n++) {
		int w = wsp_reader_window_ms(n);

		CU_ASSERT_TRUE(w >= WSP_READER_COALESCE_MS);
		CU_ASSERT_TRUE(n * 1000 / w <= WSP_READER_WAKES_PER_S);
	}
}

int test_reader_register(void)
{
	CU_pSuite s = CU_add_suite("reader", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_window_scales_with_workers);
	return 0;
}
