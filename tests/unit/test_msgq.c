/* test_msgq.c - shared message buffers and the bounded send queue. */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "daemon/msgq.h"
#include "error.h"
#include "suites.h"

static void test_msg_headroom_and_refs(void)
{
	wsp_msg *m = wsp_msg_new("hello", 5);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->len, 5);
	CU_ASSERT_EQUAL(memcmp(wsp_msg_payload(m), "hello", 6), 0);
	CU_ASSERT_EQUAL(wsp_msg_payload(m) - m->buf, WSP_MSG_PRE);
	CU_ASSERT_PTR_EQUAL(wsp_msg_ref(m), m);
	CU_ASSERT_EQUAL(m->refs, 2);
	wsp_msg_unref(m);
	CU_ASSERT_EQUAL(m->refs, 1);
	wsp_msg_unref(m);
	wsp_msg_unref(NULL);
}

static void test_one_buffer_many_queues(void)
{
	wsp_msgq q[3];
	wsp_msg *m = wsp_msg_new("{\"x\":1}", 7);

	for (int i = 0; i < 3; i++) {
		wsp_msgq_init(&q[i], 1024, 8);
		CU_ASSERT_EQUAL(wsp_msgq_push(&q[i], m), 0);
	}
	CU_ASSERT_EQUAL(m->refs, 4);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_PTR_EQUAL(wsp_msgq_peek(&q[i]), m);
		wsp_msgq_pop(&q[i]);
		CU_ASSERT_PTR_NULL(wsp_msgq_peek(&q[i]));
		CU_ASSERT_PTR_NULL(q[i].ring);  /* idle queues hold no ring */
	}
	CU_ASSERT_EQUAL(m->refs, 1);
	wsp_msg_unref(m);
}

static void test_bounds(void)
{
	wsp_msgq q;
	wsp_msg *small = wsp_msg_new("abcd", 4), *big = wsp_msg_new("0123456789", 10);

	wsp_msgq_init(&q, 20, 3);
	CU_ASSERT_EQUAL(wsp_msgq_push(&q, small), 0);
	CU_ASSERT_EQUAL(wsp_msgq_push(&q, big), 0);
	CU_ASSERT_EQUAL(wsp_msgq_push(&q, big), WSP_ERR_LIMIT);   /* 24 bytes > 20 */
	CU_ASSERT_EQUAL(wsp_msgq_push(&q, small), 0);
	CU_ASSERT_EQUAL(wsp_msgq_push(&q, small), WSP_ERR_LIMIT); /* 4 messages > 3 */
	CU_ASSERT_EQUAL(q.count, 3);
	CU_ASSERT_EQUAL(q.bytes, 18);
	/* FIFO order survives the ring wrapping. */
	CU_ASSERT_PTR_EQUAL(wsp_msgq_peek(&q), small);
	wsp_msgq_pop(&q);
	CU_ASSERT_EQUAL(wsp_msgq_push(&q, small), 0);
	CU_ASSERT_PTR_EQUAL(wsp_msgq_peek(&q), big);
	wsp_msgq_cleanup(&q);
	CU_ASSERT_EQUAL(small->refs, 1);
	CU_ASSERT_EQUAL(big->refs, 1);
	wsp_msg_unref(small);
	wsp_msg_unref(big);
}

static void test_nomem(void)
{
	wsp_msgq q;
	wsp_msg *m = wsp_msg_new("x", 1);

	wsp_msgq_init(&q, 100, 10);
	wsp_alloc_fail_after(0);
	CU_ASSERT_EQUAL(wsp_msgq_push(&q, m), WSP_ERR_NOMEM);
	wsp_alloc_fail_after(-1);
	CU_ASSERT_EQUAL(m->refs, 1);
	wsp_alloc_fail_after(0);
	CU_ASSERT_PTR_NULL(wsp_msg_new("y", 1));
	wsp_alloc_fail_after(-1);
	wsp_msgq_cleanup(&q);
	wsp_msg_unref(m);
}

int test_msgq_register(void)
{
	CU_pSuite s = CU_add_suite("msgq", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_msg_headroom_and_refs);
	WSP_ADD_TEST(s, test_one_buffer_many_queues);
	WSP_ADD_TEST(s, test_bounds);
	WSP_ADD_TEST(s, test_nomem);
	return 0;
}
