/* test_html.c - HTML escaping, URL encoding, the admin page and error pages. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "fcgi/admin_page.h"
#include "fcgi/html.h"
#include "suites.h"

static void test_escape(void)
{
	wsp_buf b;

	wsp_buf_init(&b);
	CU_ASSERT_EQUAL(wsp_html_escape(&b, "<script>alert(\"x\")</script> & 'q'"), 0);
	CU_ASSERT_STRING_EQUAL(wsp_buf_str(&b),
			       "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
	wsp_buf_reset(&b);
	CU_ASSERT_EQUAL(wsp_html_escape(&b, "plain \xC3\xA9t\xC3\xA9"), 0);
	CU_ASSERT_STRING_EQUAL(wsp_buf_str(&b), "plain \xC3\xA9t\xC3\xA9");
	wsp_buf_reset(&b);
	wsp_html_escape(&b, "a\x01" "b");
	CU_ASSERT_STRING_EQUAL(wsp_buf_str(&b), "a\xEF\xBF\xBD" "b");
	wsp_buf_reset(&b);
	CU_ASSERT_EQUAL(wsp_html_escape(&b, NULL), 0);
	CU_ASSERT_STRING_EQUAL(wsp_buf_str(&b), "");
	wsp_buf_cleanup(&b);
}

static void test_url_encode(void)
{
	wsp_buf b;

	wsp_buf_init(&b);
	wsp_url_encode(&b, "/admin/x y?&=\"");
	CU_ASSERT_STRING_EQUAL(wsp_buf_str(&b), "/admin/x%20y%3F%26%3D%22");
	wsp_buf_cleanup(&b);
}

static void test_duration(void)
{
	char t[32];

	wsp_format_duration(7, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "7s");
	wsp_format_duration(306, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "5m 06s");
	wsp_format_duration(7384, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "2h 03m 04s");
	wsp_format_duration(3 * 86400 + 4 * 3600 + 5 * 60, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "3d 04h 05m");
	wsp_format_duration(-5, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "0s");
}

static void test_admin_page(void)
{
	json_t *stats = json_loads(
		"{\"uptime\":65000,\"totalMessages\":12,"
		"\"namespaces\":[{\"path\":\"/api/1/ws/a\\\"><script>x()</script>\",\"status\":\"green\","
		"\"clientCount\":3,\"activeUsers\":1,\"messagesPerMin\":2,\"messagesPerHour\":9,"
		"\"totalMessages\":12,\"dropped\":0,\"lastActivity\":\"2026-11-25T19:30:00Z\"},"
		"{\"path\":\"/api/1/ws/b\",\"status\":\"<bad>\",\"clientCount\":2}],"
		"\"activityLog\":[{\"timestamp\":\"2026-11-25T19:30:00Z\",\"namespace\":\"/api/1/ws/a\","
		"\"type\":\"message\",\"username\":\"<i>eve</i>\",\"message\":\"<img src=x onerror=alert(1)>\"},"
		"{\"timestamp\":\"2026-11-25T19:31:00Z\",\"namespace\":\"/api/1/ws/b\",\"direction\":\"sent\","
		"\"type\":\"later\",\"username\":\"\",\"message\":\"{}\"}],"
		"\"daemons\":[{\"id\":\"d<1>\",\"host\":\"h\",\"pid\":7,\"uptime\":65000,\"up\":false,\"updatedAt\":\"t\"}]}",
		0, NULL);
	wsp_buf b;
	const char *s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(stats);
	wsp_buf_init(&b);
	CU_ASSERT_EQUAL(wsp_admin_page_render(&b, stats, "<root>", "/admin/websocket-stats.shtml"), 0);
	s = wsp_buf_str(&b);
	/* No value opened a tag. */
	CU_ASSERT_PTR_NULL(strstr(s, "<script>x()"));
	CU_ASSERT_PTR_NULL(strstr(s, "<img"));
	CU_ASSERT_PTR_NULL(strstr(s, "<i>eve"));
	CU_ASSERT_PTR_NULL(strstr(s, "<root>"));
	CU_ASSERT_PTR_NULL(strstr(s, "d<1>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "&lt;img src=x onerror=alert(1)&gt;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "data-path=\"/api/1/ws/a&quot;&gt;&lt;script&gt;"));
	/* The DOM contract. */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "id=\"wsp-uptime\">1m 05s<"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "id=\"wsp-total-messages\">12<"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "id=\"wsp-namespace-count\">2<"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "id=\"wsp-client-count\">5<"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tbody id=\"wsp-namespaces\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<span class=\"wsp-dot wsp-green\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<span class=\"wsp-dot wsp-red\""));  /* unknown status */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<ul id=\"wsp-activity\""));
	/* The stats list the log oldest first (jPulse's getStats()); the page
	 * shows the newest first. */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "19:31:00Z"));
	CU_ASSERT_TRUE(strstr(s, "19:31:00Z") && strstr(s, "&lt;img src=x") &&
		       strstr(s, "19:31:00Z") < strstr(s, "&lt;img src=x"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "id=\"wsp-updated\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "id=\"wsp-conn\" class=\"wsp-conn wsp-conn-"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<link rel=\"stylesheet\" href=\"/admin/websocket-stats.css\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<script src=\"/jpulse-ws.js\"></script>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<script src=\"/admin/websocket-stats.js\"></script>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr class=\"wsp-daemon wsp-down\" data-id=\"d&lt;1&gt;\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<th data-col=\"clientCount\">"));
	wsp_buf_cleanup(&b);
	json_decref(stats);
}

static void test_error_page(void)
{
	wsp_buf b;

	wsp_buf_init(&b);
	CU_ASSERT_EQUAL(wsp_html_error_page(&b, "Forbidden <x>", "needs \"admin\"", "/?a=1&b=2", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(wsp_buf_str(&b), "<h1>Forbidden &lt;x&gt;</h1>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(wsp_buf_str(&b), "href=\"/?a=1&amp;b=2\""));
	wsp_buf_cleanup(&b);
}

int test_html_register(void)
{
	CU_pSuite s = CU_add_suite("html", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_escape);
	WSP_ADD_TEST(s, test_url_encode);
	WSP_ADD_TEST(s, test_duration);
	WSP_ADD_TEST(s, test_admin_page);
	WSP_ADD_TEST(s, test_error_page);
	return 0;
}
