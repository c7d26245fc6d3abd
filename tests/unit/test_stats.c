/* test_stats.c - status colours, rate windows, the activity log, the sum. */
#include "config.h"

#include <string.h>

#include "daemon/stats.h"
#include "suites.h"

#define T0 1800000000LL

static void test_status_rule(void)
{
	CU_ASSERT_STRING_EQUAL(wsp_stats_status(0, T0, T0), "red");          /* nobody connected */
	CU_ASSERT_STRING_EQUAL(wsp_stats_status(3, 0, T0), "red");           /* never active */
	CU_ASSERT_STRING_EQUAL(wsp_stats_status(3, T0 - 10, T0), "green");
	CU_ASSERT_STRING_EQUAL(wsp_stats_status(3, T0 - 299, T0), "green");
	CU_ASSERT_STRING_EQUAL(wsp_stats_status(3, T0 - 300, T0), "yellow");
	CU_ASSERT_STRING_EQUAL(wsp_stats_status(3, T0 - 1799, T0), "yellow");
	CU_ASSERT_STRING_EQUAL(wsp_stats_status(3, T0 - 1800, T0), "red");
}

static void test_windows(void)
{
	wsp_rate_window w;

	wsp_window_init(&w);
	for (int i = 0; i < 10; i++)
		wsp_window_add(&w, T0 + i, 2);
	CU_ASSERT_EQUAL(wsp_window_per_min(&w, T0 + 9), 20);
	CU_ASSERT_EQUAL(wsp_window_per_min(&w, T0 + 65), 8);   /* seconds 6..9 remain */
	CU_ASSERT_EQUAL(wsp_window_per_min(&w, T0 + 200), 0);
	CU_ASSERT_EQUAL(wsp_window_per_hour(&w, T0 + 200), 20);
	wsp_window_add(&w, T0 + 1800, 5);
	CU_ASSERT_EQUAL(wsp_window_per_hour(&w, T0 + 1800), 25);
	CU_ASSERT_EQUAL(wsp_window_per_hour(&w, T0 + 3700), 5);
	CU_ASSERT_EQUAL(wsp_window_per_hour(&w, T0 + 9000), 0);
	CU_ASSERT_EQUAL(wsp_window_per_min(&w, T0 + 9000), 0);
}

static void test_ns_json(void)
{
	wsp_ns_counters c;
	json_t *j;

	memset(&c, 0, sizeof(c));
	j = wsp_stats_ns_json("/api/1/ws/x", 0, 0, &c, T0);
	CU_ASSERT_TRUE(json_is_null(json_object_get(j, "lastActivity")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "status")), "red");
	json_decref(j);
	wsp_counters_message(&c, T0);
	wsp_counters_message(&c, T0 + 1);
	c.dropped = 2;
	j = wsp_stats_ns_json("/api/1/ws/x", 2, 1, &c, T0 + 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "status")), "green");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "messagesPerMin")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "messagesPerHour")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "totalMessages")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "dropped")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "activeUsers")), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "lastActivity")), "2027-01-15T08:00:01.000Z");
	json_decref(j);
}

static void test_activity(void)
{
	wsp_activity a;
	json_t *j;
	char longmsg[400];

	CU_ASSERT_EQUAL(wsp_activity_init(&a, 3), 0);
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	wsp_activity_add(&a, T0 * 1000, "/api/1/ws/a", "t1", "u", "m1");
	wsp_activity_add(&a, T0 * 1000 + 1, "/api/1/ws/a", "t2", "u", "m2");
	wsp_activity_add(&a, T0 * 1000 + 2, "/api/1/ws/a", "t3", "", longmsg);
	wsp_activity_add(&a, T0 * 1000 + 3, "/api/1/ws/b", "t4", "", "m4");   /* drops t1 */
	j = wsp_activity_json(&a, T0 * 1000 + 4);
	CU_ASSERT_EQUAL(json_array_size(j), 3);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(j, 0), "type")), "t4");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(j, 2), "type")), "t2");
	CU_ASSERT_TRUE(strlen(json_string_value(json_object_get(json_array_get(j, 1), "message"))) < WSP_ACTIVITY_TEXT);
	json_decref(j);
	/* Five minutes later everything has expired. */
	j = wsp_activity_json(&a, T0 * 1000 + 300 * 1000 + 10);
	CU_ASSERT_EQUAL(json_array_size(j), 0);
	json_decref(j);
	wsp_activity_cleanup(&a);
}

static void test_merge(void)
{
	static const char text[] =
		"[{\"id\":\"d1\",\"host\":\"h\",\"pid\":1,\"updatedAt\":\"x\",\"up\":true,"
		"  \"stats\":{\"uptime\":100,\"totalMessages\":10,"
		"   \"namespaces\":[{\"path\":\"/api/1/ws/a\",\"status\":\"green\",\"clientCount\":2,\"activeUsers\":1,"
		"     \"messagesPerMin\":3,\"messagesPerHour\":4,\"totalMessages\":10,\"dropped\":1,"
		"     \"lastActivity\":\"2027-01-15T08:00:00.000Z\"}],"
		"   \"activityLog\":[{\"timestamp\":\"2027-01-15T08:00:00.000Z\",\"namespace\":\"/api/1/ws/a\","
		"     \"type\":\"old\",\"username\":\"\",\"message\":\"\"}]}},"
		" {\"id\":\"d2\",\"host\":\"h\",\"pid\":2,\"updatedAt\":\"x\",\"up\":true,"
		"  \"stats\":{\"uptime\":50,\"totalMessages\":5,\"workers\":4,"
		"   \"namespaces\":[{\"path\":\"/api/1/ws/a\",\"status\":\"red\",\"clientCount\":1,\"activeUsers\":1,"
		"     \"messagesPerMin\":1,\"messagesPerHour\":1,\"totalMessages\":5,\"dropped\":0,\"lastActivity\":null}],"
		"   \"activityLog\":[{\"timestamp\":\"2027-01-15T08:00:01.000Z\",\"namespace\":\"/api/1/ws/a\","
		"     \"type\":\"new\",\"username\":\"\",\"message\":\"\"}]}},"
		" {\"id\":\"d3\",\"host\":\"h\",\"pid\":3,\"updatedAt\":\"x\",\"up\":false,"
		"  \"stats\":{\"uptime\":9,\"totalMessages\":999,\"namespaces\":[],\"activityLog\":[]}}]";
	json_t *rows = json_loads(text, 0, NULL);
	json_t *m, *ns;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
	m = wsp_stats_merge(rows, T0 + 10);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "totalMessages")), 15);   /* d3 is down */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "uptime")), 100);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(m, "daemons")), 3);
	CU_ASSERT_TRUE(json_is_false(json_object_get(json_array_get(json_object_get(m, "daemons"), 2), "up")));
	/* "workers" comes from the row's stats (a worker of a 4-worker daemon), 1 when absent. */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(json_object_get(m, "daemons"), 0), "workers")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(json_object_get(m, "daemons"), 1), "workers")), 4);
	ns = json_array_get(json_object_get(m, "namespaces"), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(ns, "clientCount")), 3);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(ns, "messagesPerHour")), 5);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(ns, "dropped")), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ns, "status")), "green");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(json_object_get(m, "activityLog"), 0), "type")), "new");
	json_decref(m);
	json_decref(rows);
}

int test_stats_register(void)
{
	CU_pSuite s = CU_add_suite("stats", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_status_rule);
	WSP_ADD_TEST(s, test_windows);
	WSP_ADD_TEST(s, test_ns_json);
	WSP_ADD_TEST(s, test_activity);
	WSP_ADD_TEST(s, test_merge);
	return 0;
}
