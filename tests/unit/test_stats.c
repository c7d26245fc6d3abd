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
	wsp_activity_add(&a, T0 * 1000, 0, "/api/1/ws/a", true, "t1", "u", "m1");
	wsp_activity_add(&a, T0 * 1000 + 1, 0, "/api/1/ws/a", true, "t2", "u", "m2");
	wsp_activity_add(&a, T0 * 1000 + 2, 0, "/api/1/ws/a", true, "t3", "", longmsg);
	wsp_activity_add(&a, T0 * 1000 + 3, 0, "/api/1/ws/b", true, "t4", "", "m4");   /* drops t1 */
	j = wsp_activity_json(&a, T0 * 1000 + 4, false);
	CU_ASSERT_EQUAL(json_array_size(j), 3);
	/* Oldest first, as jPulse's getStats() (its admin page reverses it). */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(j, 0), "type")), "t2");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(j, 2), "type")), "t4");
	CU_ASSERT_TRUE(strlen(json_string_value(json_object_get(json_array_get(j, 1), "message"))) < WSP_ACTIVITY_TEXT);
	json_decref(j);
	/* Five minutes later everything has expired. */
	j = wsp_activity_json(&a, T0 * 1000 + 300 * 1000 + 10, false);
	CU_ASSERT_EQUAL(json_array_size(j), 0);
	json_decref(j);
	wsp_activity_cleanup(&a);
}

/* Anonymous entries hold at most a fifth of the log, however many come;
 * named ones still push out the oldest of either kind, and an anonymous
 * entry dropped or expired frees its place in the share. */
static void test_activity_anon_share(void)
{
	wsp_activity a;
	json_t *j;
	long long t = T0 * 1000;
	size_t anon = 0;

	CU_ASSERT_EQUAL_FATAL(wsp_activity_init(&a, 10), 0);
	wsp_activity_add(&a, t++, 0, "/api/1/ws/a", true, "admin", "root", "m");
	for (int i = 0; i < 50; i++)
		wsp_activity_add_anon(&a, t++, "/api/1/ws/a", true, "flood", "", "x");
	j = wsp_activity_json(&a, t, false);
	CU_ASSERT_EQUAL(json_array_size(j), 3);   /* the admin's entry and 2 anonymous */
	for (size_t i = 0; i < json_array_size(j); i++)
		anon += strcmp(json_string_value(json_object_get(json_array_get(j, i), "type")), "flood") == 0;
	CU_ASSERT_EQUAL(anon, 2);
	json_decref(j);
	/* Ten named entries push out everything older, the anonymous ones too:
	 * their share is free again. */
	for (int i = 0; i < 10; i++)
		wsp_activity_add(&a, t++, 0, "/api/1/ws/a", true, "named", "u", "m");
	CU_ASSERT_EQUAL(a.anon, 0);
	wsp_activity_add_anon(&a, t++, "/api/1/ws/a", true, "flood", "", "y");
	wsp_activity_add_anon(&a, t++, "/api/1/ws/a", true, "flood", "", "y");
	wsp_activity_add_anon(&a, t++, "/api/1/ws/a", true, "flood", "", "y");
	CU_ASSERT_EQUAL(a.anon, 2);
	CU_ASSERT_EQUAL(a.count, 10);
	/* Expired anonymous entries free it too. */
	j = wsp_activity_json(&a, t + 300 * 1000 + 10, false);
	CU_ASSERT_EQUAL(json_array_size(j), 0);
	CU_ASSERT_EQUAL(a.anon, 0);
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
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(json_object_get(m, "activityLog"), 0), "type")), "old");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(json_object_get(m, "activityLog"), 1), "type")), "new");
	json_decref(m);
	json_decref(rows);
}

/* A REST broadcast counts in the totals and, apart, in the REST-fed part,
 * which only the snapshot row shows. */
static void test_rest_counters(void)
{
	wsp_ns_counters c;
	json_t *j, *r;

	memset(&c, 0, sizeof(c));
	wsp_counters_message(&c, T0);
	wsp_counters_rest_message(&c, T0 + 1);
	wsp_counters_rest_message(&c, T0 + 2);
	j = wsp_stats_ns_json("/api/1/ws/x", 1, 0, &c, T0 + 3);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "totalMessages")), 3);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "messagesPerMin")), 3);
	CU_ASSERT_PTR_NULL(json_object_get(j, "rest"));   /* the public entry */
	CU_ASSERT_EQUAL(json_object_size(j), 9);
	json_decref(j);
	j = wsp_stats_ns_snapshot_json("/api/1/ws/x", 1, 0, &c, T0 + 60);
	r = json_object_get(j, "rest");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "totalMessages")), 3);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "messagesPerMin")), 2);   /* T0 left the minute */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "totalMessages")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "messagesPerMin")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "messagesPerHour")), 2);
	json_decref(j);
}

/* Only the snapshot's activity entries carry the outbox id. */
static void test_activity_outbox_id(void)
{
	wsp_activity a;
	json_t *j;

	CU_ASSERT_EQUAL_FATAL(wsp_activity_init(&a, 10), 0);
	wsp_activity_add(&a, T0 * 1000, 0, "/api/1/ws/a", true, "client", "u", "m");
	wsp_activity_add(&a, T0 * 1000 + 1, 42, "/api/1/ws/a", false, "rest", "", "m");
	j = wsp_activity_json(&a, T0 * 1000 + 2, true);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(j, 1), "outboxId")), 42);
	CU_ASSERT_PTR_NULL(json_object_get(json_array_get(j, 0), "outboxId"));
	json_decref(j);
	j = wsp_activity_json(&a, T0 * 1000 + 2, false);
	CU_ASSERT_PTR_NULL(json_object_get(json_array_get(j, 1), "outboxId"));
	CU_ASSERT_EQUAL(json_object_size(json_array_get(j, 0)), 6);
	json_decref(j);
	wsp_activity_cleanup(&a);
}

static json_t *ns_of(json_t *m, const char *path)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(m, "namespaces"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
			return e;
	return NULL;
}

#define NSR(path, clients, perMin, perHour, total, rmin, rhour, rtotal, last) \
	"{\"path\":\"" path "\",\"status\":\"green\",\"clientCount\":" #clients ",\"activeUsers\":0," \
	"\"messagesPerMin\":" #perMin ",\"messagesPerHour\":" #perHour ",\"totalMessages\":" #total "," \
	"\"dropped\":0,\"lastActivity\":" last ",\"rest\":{\"messagesPerMin\":" #rmin \
	",\"messagesPerHour\":" #rhour ",\"totalMessages\":" #rtotal "}}"
#define ACT(ts, type, extra) \
	"{\"timestamp\":\"2027-01-15T08:00:0" ts "Z\",\"namespace\":\"/api/1/ws/r\",\"direction\":\"sent\",\"type\":\"" type "\"," \
	"\"username\":\"\",\"message\":\"\"" extra "}"

/* Three live workers (S/w1 and S/w2 of one daemon, and T) each delivered
 * the same 7 REST broadcasts of /api/1/ws/r; T's clients also sent 3
 * messages there, and S/w1's 4 to /api/1/ws/c.  A worker that started later
 * (S/w2, restarted) has seen fewer REST broadcasts in total; one whose last
 * snapshot is a little older (S/w2 again) fewer in its minute.  A stale row
 * and a row from an older daemon without "rest" are there too. */
static void test_merge_rest_once(void)
{
	static const char text[] =
		"[{\"id\":\"S/w1\",\"up\":true,\"stats\":{\"uptime\":100,\"totalMessages\":11,\"workers\":2,"
		"   \"namespaces\":[" NSR("/api/1/ws/r", 0, 5, 7, 7, 5, 7, 7, "\"2027-01-15T08:00:05.000Z\"") ","
		"                   " NSR("/api/1/ws/c", 1, 4, 4, 4, 0, 0, 0, "\"2027-01-15T08:00:01.000Z\"") "],"
		"   \"activityLog\":[" ACT("5.000", "rest", ",\"outboxId\":9") "," ACT("4.000", "rest", ",\"outboxId\":8") ","
		"                    " ACT("1.000", "client", "") "]}},"
		" {\"id\":\"S/w2\",\"up\":true,\"stats\":{\"uptime\":20,\"totalMessages\":3,\"workers\":2,"
		"   \"namespaces\":[" NSR("/api/1/ws/r", 0, 4, 3, 3, 4, 3, 3, "\"2027-01-15T08:00:04.000Z\"") ","
		"                   " NSR("/api/1/ws/c", 0, 0, 0, 0, 0, 0, 0, "null") "],"
		"   \"activityLog\":[" ACT("4.000", "rest", ",\"outboxId\":8") "]}},"
		" {\"id\":\"T\",\"up\":true,\"stats\":{\"uptime\":90,\"totalMessages\":10,"
		"   \"namespaces\":[" NSR("/api/1/ws/r", 2, 6, 10, 10, 5, 7, 7, "\"2027-01-15T08:00:06.000Z\"") "],"
		"   \"activityLog\":[" ACT("6.000", "client", "") "," ACT("5.001", "rest", ",\"outboxId\":9") ","
		"                    " ACT("3.999", "rest", ",\"outboxId\":8") "]}},"
		" {\"id\":\"old\",\"up\":true,\"stats\":{\"uptime\":5,\"totalMessages\":2,"
		"   \"namespaces\":[{\"path\":\"/api/1/ws/r\",\"status\":\"red\",\"clientCount\":0,\"activeUsers\":0,"
		"     \"messagesPerMin\":2,\"messagesPerHour\":2,\"totalMessages\":2,\"dropped\":0,\"lastActivity\":null}],"
		"   \"activityLog\":[]}},"
		" {\"id\":\"gone\",\"up\":false,\"stats\":{\"uptime\":500,\"totalMessages\":900,"
		"   \"namespaces\":[" NSR("/api/1/ws/r", 5, 0, 0, 900, 0, 0, 900, "null") "],"
		"   \"activityLog\":[" ACT("2.000", "rest", ",\"outboxId\":7") "]}}]";
	json_t *rows = json_loads(text, 0, NULL), *m, *r, *c, *log, *e;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
	m = wsp_stats_merge(rows, T0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	r = ns_of(m, "/api/1/ws/r");
	c = ns_of(m, "/api/1/ws/c");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* The 7 REST broadcasts once (the largest part: S/w1's and T's), T's 3
	 * client messages, the old daemon's 2 summed whole. */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "totalMessages")), 7 + 3 + 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "messagesPerMin")), 5 + 1 + 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "messagesPerHour")), 7 + 3 + 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "clientCount")), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "lastActivity")), "2027-01-15T08:00:06.000Z");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "totalMessages")), 4);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "messagesPerMin")), 4);
	/* Top level: 12 in /r plus 4 in /c; the stale row is not in it. */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "totalMessages")), 16);
	/* The public shape: no internal keys. */
	CU_ASSERT_PTR_NULL(json_object_get(r, "rest"));
	CU_ASSERT_PTR_NULL(json_object_get(c, "rest"));
	CU_ASSERT_EQUAL(json_object_size(r), 9);
	/* One activity entry per outbox id, the earliest time; client entries all. */
	log = json_object_get(m, "activityLog");
	CU_ASSERT_EQUAL(json_array_size(log), 4);
	json_array_foreach(log, i, e)
		CU_ASSERT_EQUAL(json_object_size(e), 6);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(log, 0), "timestamp")), "2027-01-15T08:00:01.000Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(log, 1), "timestamp")), "2027-01-15T08:00:03.999Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(log, 2), "timestamp")), "2027-01-15T08:00:05.000Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(log, 3), "timestamp")), "2027-01-15T08:00:06.000Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(log, 0), "type")), "client");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(log, 3), "type")), "client");
	/* The borrowed rows are left as they were. */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(json_object_get(json_object_get(
		json_array_get(rows, 1), "stats"), "activityLog"), 0), "outboxId")), 8);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_array_get(json_object_get(json_object_get(
		json_array_get(rows, 0), "stats"), "namespaces"), 0), "rest"));
	json_decref(m);
	/* One worker alone: its own counts, whatever part is REST-fed. */
	json_array_remove(rows, 4);
	json_array_remove(rows, 3);
	json_array_remove(rows, 2);
	json_array_remove(rows, 1);
	m = wsp_stats_merge(rows, T0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "totalMessages")), 11);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(ns_of(m, "/api/1/ws/r"), "totalMessages")), 7);
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
	WSP_ADD_TEST(s, test_activity_anon_share);
	WSP_ADD_TEST(s, test_merge);
	WSP_ADD_TEST(s, test_rest_counters);
	WSP_ADD_TEST(s, test_activity_outbox_id);
	WSP_ADD_TEST(s, test_merge_rest_once);
	return 0;
}
