/* test_metrics.c - the daemon's counters in its snapshot, and their
 * Prometheus text (checked with promtool by metrics.test.mjs). */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "daemon/metrics.h"
#include "suites.h"

static void test_render(void)
{
	wsp_metrics m;
	json_t *rows, *stats;
	char *text;

	memset(&m, 0, sizeof(m));
	m.refused[WSP_REFUSED_UNKNOWN_NAMESPACE] = 3;
	m.messages_in = 7;
	m.messages_out = 11;
	m.pg_connects = 3;
	m.outbox_delivered = 40;
	m.replays_client = 2;
	m.replays_queue = 5;
	m.replays_queue_pages = 4;
	stats = json_pack("{s:[{s:s, s:i, s:i}], s:o}", "namespaces", "path", "/api/1/ws/a", "clientCount", 5,
			  "dropped", 1, "metrics", wsp_metrics_json(&m, 4096, 8192));
	rows = json_pack("[{s:s, s:s, s:b, s:i, s:o}, {s:s, s:s, s:b, s:i, s:n}]",
			 "id", "h:8081/w\"1", "host", "h", "up", 1, "age", 2, "stats", stats,
			 "id", "gone", "host", "h2", "up", 0, "age", 99, "stats");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
	text = wsp_metrics_render(rows, 42);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_daemon_up{daemon=\"h:8081/w\\\"1\",host=\"h\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_daemon_up{daemon=\"gone\",host=\"h2\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_sockets{daemon=\"h:8081/w\\\"1\",namespace=\"/api/1/ws/a\"} 5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "reason=\"unknown_namespace\"} 3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_messages_received_total{daemon=\"h:8081/w\\\"1\"} 7\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_send_queue_bytes{daemon=\"h:8081/w\\\"1\"} 4096\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_backlog_bytes{daemon=\"h:8081/w\\\"1\"} 8192\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_outbox_newest_id 42\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_outbox_lag{daemon=\"h:8081/w\\\"1\"} 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "wspulse_postgres_reconnects_total{daemon=\"h:8081/w\\\"1\"} 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "kind=\"client\"} 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "kind=\"queue\"} 5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "kind=\"queue_pages\"} 4\n"));
	/* A row that is down shows only as down: its counters are stale. */
	CU_ASSERT_PTR_NULL(strstr(text, "wspulse_sockets{daemon=\"gone\""));
	wsp_free(text);
	/* Out of memory anywhere: NULL, nothing leaked (ASan run). */
	for (int n = 0; n < 4; n++) {
		wsp_alloc_fail_after(n);
		text = wsp_metrics_render(rows, 42);
		wsp_alloc_fail_after(-1);
		wsp_free(text);
	}
	json_decref(rows);
}

int test_metrics_register(void)
{
	CU_pSuite s = CU_add_suite("metrics", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_render);
	return CUE_SUCCESS;
}
