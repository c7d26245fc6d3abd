/* test_outbox.c - the contract rows both programs read: an outbox row from
 * its columns and from a NOTIFY (outbox.h), a stats row (statsrow.h). */
#include "config.h"

#include <string.h>

#include "outbox.h"
#include "statsrow.h"
#include "suites.h"

static void test_row_decode(void)
{
	const char *col[WSP_OUTBOX_NCOLS] = { "42", "/api/1/ws/x", "{\"a\":1}", "ann", "", "t", "" };
	const char *bad_id[WSP_OUTBOX_NCOLS] = { "4x", "/api/1/ws/x", "{}", "", "", "t", "" };
	const char *bad_all[WSP_OUTBOX_NCOLS] = { "4", "/api/1/ws/x", "{}", "", "", "true", "" };
	wsp_outbox_row r;

	CU_ASSERT_EQUAL(wsp_outbox_row_decode(col, &r), 0);
	CU_ASSERT_EQUAL(r.id, 42);
	CU_ASSERT_STRING_EQUAL(r.ns, "/api/1/ws/x");
	CU_ASSERT_STRING_EQUAL(r.payload, "{\"a\":1}");
	CU_ASSERT_STRING_EQUAL(r.username, "ann");
	CU_ASSERT_TRUE(r.all);
	CU_ASSERT_STRING_EQUAL(r.origin, "");
	CU_ASSERT_EQUAL(wsp_outbox_row_decode(bad_id, &r), -1);
	CU_ASSERT_EQUAL(wsp_outbox_row_decode(bad_all, &r), -1);
}

static void test_notify_decode(void)
{
	char whole[] = "7\nf\nuser:bob\nd1/w2\nann\n/api/1/ws/x\n{\"b\":\"x\\ny\"}";
	char id_only[] = "123";
	char short_row[] = "7\nf\nc\n";
	char bad_flag[] = "7\nx\n\n\n\n/api/1/ws/x\n{}";
	char huge[] = "123456789012345678901";
	wsp_outbox_row r;

	CU_ASSERT_EQUAL(wsp_outbox_notify_decode(whole, &r), 1);
	CU_ASSERT_EQUAL(r.id, 7);
	CU_ASSERT_FALSE(r.all);
	CU_ASSERT_STRING_EQUAL(r.client_id, "user:bob");
	CU_ASSERT_STRING_EQUAL(r.origin, "d1/w2");
	CU_ASSERT_STRING_EQUAL(r.username, "ann");
	CU_ASSERT_STRING_EQUAL(r.ns, "/api/1/ws/x");
	CU_ASSERT_STRING_EQUAL(r.payload, "{\"b\":\"x\\ny\"}");   /* a payload keeps its own text */
	CU_ASSERT_EQUAL(wsp_outbox_notify_decode(id_only, &r), 0);
	CU_ASSERT_EQUAL(r.id, 123);
	CU_ASSERT_EQUAL(wsp_outbox_notify_decode(short_row, &r), -1);
	CU_ASSERT_EQUAL(wsp_outbox_notify_decode(bad_flag, &r), -1);
	CU_ASSERT_EQUAL(wsp_outbox_notify_decode(huge, &r), -1);
}

static void test_statsrow_json(void)
{
	const char *col[WSP_STATSROW_NCOLS] = { "h:1/w1", "h", "99", "2026-01-01T00:00:00.000Z",
						"2026-01-01T00:00:05.000Z", "t", "3", "{\"uptime\":5}", "1767225605" };
	const char *stale[WSP_STATSROW_NCOLS] = { "h:1/w2", "h", "98", "", "", "t", "0", "not json", "0" };
	json_t *j = wsp_statsrow_json(col);

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "id")), "h:1/w1");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "pid")), 99);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "age")), 3);
	CU_ASSERT_TRUE(json_is_true(json_object_get(j, "up")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(j, "stats"), "uptime")), 5);
	json_decref(j);
	j = wsp_statsrow_json(stale);   /* stats that do not parse: not up, stats null */
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_TRUE(json_is_false(json_object_get(j, "up")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(j, "stats")));
	json_decref(j);
}

int test_outbox_register(void)
{
	CU_pSuite s = CU_add_suite("outbox", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_row_decode);
	WSP_ADD_TEST(s, test_notify_decode);
	WSP_ADD_TEST(s, test_statsrow_json);
	return 0;
}
