/* test_backlog.c - a namespace's deliveries kept for lagging clients. */
#include "config.h"

#include <string.h>

#include "daemon/backlog.h"
#include "suites.h"

/* Nothing is kept without a reader; entries go once every reader passed them. */
static void test_readers(void)
{
	wsp_backlog b;
	wsp_msg *m = wsp_msg_new("hello", 5);
	unsigned long long p1, p2;

	memset(&b, 0, sizeof(b));
	wsp_backlog_bound(&b, 100, 1000);
	CU_ASSERT_TRUE(wsp_backlog_open(&b));
	CU_ASSERT_EQUAL(wsp_backlog_append(&b, m, 1, NULL), 0);
	CU_ASSERT_EQUAL(b.count, 0);                       /* no reader: not kept */
	p1 = wsp_backlog_join(&b);
	CU_ASSERT_EQUAL(wsp_backlog_append(&b, m, 2, NULL), 0);
	p2 = wsp_backlog_join(&b);
	CU_ASSERT_EQUAL(wsp_backlog_append(&b, m, 3, "someone"), 0);
	CU_ASSERT_EQUAL(b.count, 2);
	CU_ASSERT_EQUAL(b.bytes, 10);
	CU_ASSERT_EQUAL(m->refs, 3);
	CU_ASSERT_EQUAL(wsp_backlog_get(&b, p1)->id, 2);
	CU_ASSERT_PTR_NULL(wsp_backlog_get(&b, p1)->to);
	CU_ASSERT_EQUAL(wsp_backlog_get(&b, p2)->id, 3);
	CU_ASSERT_STRING_EQUAL(wsp_backlog_get(&b, p2)->to, "someone");
	CU_ASSERT_PTR_NULL(wsp_backlog_get(&b, wsp_backlog_end(&b)));
	/* The first reader passes id 2 (only it needed it): it goes. */
	wsp_backlog_pass(&b, p1++);
	CU_ASSERT_EQUAL(b.count, 1);
	CU_ASSERT_PTR_NULL(wsp_backlog_get(&b, p1 - 1));
	/* id 3 stays until the second reader passes it too. */
	wsp_backlog_pass(&b, p1++);
	CU_ASSERT_EQUAL(b.count, 1);
	wsp_backlog_leave(&b, p1);
	CU_ASSERT_EQUAL(b.readers, 1);
	wsp_backlog_leave(&b, p2);                          /* passes id 3 */
	CU_ASSERT_EQUAL(b.count, 0);
	CU_ASSERT_EQUAL(b.readers, 0);
	CU_ASSERT_EQUAL(b.bytes, 0);
	CU_ASSERT_PTR_NULL(b.ring);                         /* an idle namespace holds nothing */
	CU_ASSERT_EQUAL(m->refs, 1);
	wsp_backlog_cleanup(&b);
	wsp_msg_unref(m);
}

/* The ring grows past its first size in order; the bounds say when to shed
 * and how far. */
static void test_bounds(void)
{
	wsp_backlog b;
	wsp_msg *m = wsp_msg_new("0123456789", 10);
	unsigned long long p, shed;

	memset(&b, 0, sizeof(b));
	wsp_backlog_bound(&b, 200, 100000);
	p = wsp_backlog_join(&b);
	for (int i = 0; i < 200; i++)
		CU_ASSERT_EQUAL(wsp_backlog_append(&b, m, 1000 + i, NULL), 0);
	CU_ASSERT_FALSE(wsp_backlog_over(&b));
	CU_ASSERT_TRUE(wsp_backlog_open(&b));
	for (int i = 0; i < 200; i++)
		CU_ASSERT_EQUAL(wsp_backlog_get(&b, p + (unsigned)i)->id, 1000 + i);
	CU_ASSERT_EQUAL(wsp_backlog_append(&b, m, 1200, NULL), 0);
	CU_ASSERT_TRUE(wsp_backlog_over(&b));
	CU_ASSERT_FALSE(wsp_backlog_open(&b));
	shed = wsp_backlog_shed_to(&b);
	CU_ASSERT_EQUAL(wsp_backlog_end(&b) - shed, 150);  /* three quarters of 200 */
	/* Passing in the middle of the ring after a wrap keeps the order. */
	for (int i = 0; i < 100; i++)
		wsp_backlog_pass(&b, p++);
	for (int i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(wsp_backlog_append(&b, m, 1201 + i, NULL), 0);
	for (int i = 0; i < 151; i++)
		CU_ASSERT_EQUAL(wsp_backlog_get(&b, p + (unsigned)i)->id, 1100 + i);
	/* Bytes bound too. */
	wsp_backlog_bound(&b, 1000, 1000);
	CU_ASSERT_TRUE(wsp_backlog_over(&b));               /* 151 x 10 bytes */
	CU_ASSERT_EQUAL(wsp_backlog_end(&b) - wsp_backlog_shed_to(&b), 75);
	wsp_backlog_cleanup(&b);
	CU_ASSERT_EQUAL(b.count, 0);
	CU_ASSERT_EQUAL(m->refs, 1);
	/* No bound: nobody may join. */
	wsp_backlog_bound(&b, 0, 1000);
	CU_ASSERT_FALSE(wsp_backlog_open(&b));
	wsp_msg_unref(m);
}

int test_backlog_register(void)
{
	CU_pSuite s = CU_add_suite("backlog", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_readers);
	WSP_ADD_TEST(s, test_bounds);
	return 0;
}
