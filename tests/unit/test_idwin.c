/* test_idwin.c - outbox ids delivered exactly once across replays. */
#include "config.h"

#include "daemon/idwin.h"
#include "suites.h"

static void test_in_order(void)
{
	wsp_idwin w;

	wsp_idwin_init(&w, 10);
	CU_ASSERT_TRUE(wsp_idwin_seen(&w, 10));
	CU_ASSERT_FALSE(wsp_idwin_seen(&w, 11));
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 11), 1);
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 11), 0);
	CU_ASSERT_EQUAL(w.floor, 11);
	for (long long id = 12; id < 20000; id++)
		CU_ASSERT_EQUAL(wsp_idwin_mark(&w, id), 1);
	CU_ASSERT_EQUAL(w.floor, 19999);
}

static void test_out_of_order_and_holes(void)
{
	wsp_idwin w;

	wsp_idwin_init(&w, 0);
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 3), 1);   /* 1 and 2 still open */
	CU_ASSERT_EQUAL(w.floor, 0);
	CU_ASSERT_TRUE(wsp_idwin_seen(&w, 3));
	CU_ASSERT_FALSE(wsp_idwin_seen(&w, 2));
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 1), 1);
	CU_ASSERT_EQUAL(w.floor, 1);
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 2), 1);   /* a late commit: delivered */
	CU_ASSERT_EQUAL(w.floor, 3);
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 3), 0);   /* replayed: not doubled */
	/* A rolled-back id (5) is a hole; the floor waits, replay re-scans it. */
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 4), 1);
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 6), 1);
	CU_ASSERT_EQUAL(w.floor, 4);
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 6), 0);
	/* Far ahead: the hole is given up, the newer half kept. */
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 4 + WSP_IDWIN_BITS + 10), 1);
	CU_ASSERT_TRUE(w.floor >= 5);
	CU_ASSERT_TRUE(wsp_idwin_seen(&w, 4 + WSP_IDWIN_BITS + 10));
	CU_ASSERT_FALSE(wsp_idwin_seen(&w, 4 + WSP_IDWIN_BITS + 9));
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 1000000), 1);
	CU_ASSERT_EQUAL(wsp_idwin_mark(&w, 1000000), 0);
	CU_ASSERT_FALSE(wsp_idwin_seen(&w, 999999));
}

int test_idwin_register(void)
{
	CU_pSuite s = CU_add_suite("idwin", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_in_order);
	WSP_ADD_TEST(s, test_out_of_order_and_holes);
	return 0;
}
