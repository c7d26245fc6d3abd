/* admin_page.c - see admin_page.h. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "admin_page.h"
#include "error.h"
#include "html.h"

void wsp_format_duration(long long s, char *out, size_t outsz)
{
	long long d, h, m;

	if (s < 0)
		s = 0;
	d = s / 86400;
	h = s / 3600 % 24;
	m = s / 60 % 60;
	s %= 60;
	if (d)
		snprintf(out, outsz, "%lldd %02lldh %02lldm", d, h, m);
	else if (h)
		snprintf(out, outsz, "%lldh %02lldm %02llds", h, m, s);
	else if (m)
		snprintf(out, outsz, "%lldm %02llds", m, s);
	else
		snprintf(out, outsz, "%llds", s);
}

/* An integer of the stats JSON; a real is truncated, and one past long
 * long's range (the snapshot is a daemon's, but the page never trusts it)
 * is clamped there instead of converted (undefined behaviour). */
static long long num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	double r;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (!json_is_real(v))
		return 0;
	r = json_real_value(v);
	if (r >= (double)LLONG_MIN && r < (double)LLONG_MAX)
		return (long long)r;
	return r > 0 ? LLONG_MAX : r < 0 ? LLONG_MIN : 0;   /* NaN: 0 */
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Append <td>escaped text</td>. */
static void td(wsp_buf *b, const char *cls, const char *text)
{
	wsp_buf_printf(b, "<td class=\"%s\">", cls);
	wsp_html_escape(b, text);
	wsp_buf_puts(b, "</td>");
}

static void td_num(wsp_buf *b, long long v)
{
	wsp_buf_printf(b, "<td class=\"wsp-num\">%lld</td>", v);
}

static const char *dot_class(const char *status)
{
	if (strcmp(status, "green") == 0)
		return "wsp-green";
	if (strcmp(status, "yellow") == 0)
		return "wsp-yellow";
	return "wsp-red";
}

static void head(wsp_buf *b, const char *title)
{
	wsp_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	wsp_html_escape(b, title);
	wsp_buf_puts(b, "</title>\n");
}

int wsp_html_error_page(wsp_buf *b, const char *title, const char *message, const char *link_href,
			const char *link_text)
{
	head(b, title);
	wsp_buf_puts(b, "</head>\n<body>\n<main>\n<h1>");
	wsp_html_escape(b, title);
	wsp_buf_puts(b, "</h1>\n<p>");
	wsp_html_escape(b, message);
	wsp_buf_puts(b, "</p>\n");
	if (link_href) {
		wsp_buf_puts(b, "<p><a href=\"");
		wsp_html_escape(b, link_href);
		wsp_buf_puts(b, "\">");
		wsp_html_escape(b, link_text ? link_text : link_href);
		wsp_buf_puts(b, "</a></p>\n");
	}
	wsp_buf_puts(b, "</main>\n</body>\n</html>\n");
	return b->oom ? WSP_ERR_NOMEM : 0;
}

static void card(wsp_buf *b, const char *id, const char *label, const char *value)
{
	wsp_buf_printf(b, "<div class=\"wsp-card\"><div class=\"wsp-card-label\">%s</div>"
			  "<div class=\"wsp-card-value\" id=\"%s\">", label, id);
	wsp_html_escape(b, value);
	wsp_buf_puts(b, "</div></div>\n");
}

int wsp_admin_page_render(wsp_buf *b, json_t *stats, const char *username, const char *page_path)
{
	json_t *nss = json_object_get(stats, "namespaces");
	json_t *log = json_object_get(stats, "activityLog");
	json_t *daemons = json_object_get(stats, "daemons");
	json_t *v;
	long long clients = 0;
	char text[64];
	size_t i;

	json_array_foreach(nss, i, v)
		clients += num(v, "clientCount");
	head(b, "WebSocket Stats - wspulse");
	wsp_buf_puts(b, "<link rel=\"stylesheet\" href=\"/admin/websocket-stats.css\">\n</head>\n"
			"<body class=\"wsp-admin\">\n<header class=\"wsp-head\">\n"
			"<h1>WebSocket Stats</h1>\n"
			"<span id=\"wsp-conn\" class=\"wsp-conn wsp-conn-connecting\">connecting</span>\n"
			"<span class=\"wsp-updated-wrap\">Updated <time id=\"wsp-updated\">");
	wsp_html_escape(b, str(stats, "generatedAt"));
	wsp_buf_puts(b, "</time> &middot; <span class=\"wsp-viewer\">");
	wsp_html_escape(b, username);
	wsp_buf_puts(b, "</span></span>\n</header>\n<main data-page=\"");
	wsp_html_escape(b, page_path);
	wsp_buf_puts(b, "\">\n<section class=\"wsp-cards\">\n");
	wsp_format_duration(num(stats, "uptime") / 1000, text, sizeof(text));   /* ms, as jPulse */
	card(b, "wsp-uptime", "Uptime", text);
	snprintf(text, sizeof(text), "%lld", num(stats, "totalMessages"));
	card(b, "wsp-total-messages", "Total messages", text);
	snprintf(text, sizeof(text), "%zu", json_array_size(nss));
	card(b, "wsp-namespace-count", "Namespaces", text);
	snprintf(text, sizeof(text), "%lld", clients);
	card(b, "wsp-client-count", "Clients", text);
	wsp_buf_puts(b, "</section>\n<section>\n<h2>Namespaces</h2>\n<table class=\"wsp-table\">\n<thead><tr>"
			"<th data-col=\"path\">Namespace</th><th data-col=\"clientCount\">Clients</th>"
			"<th data-col=\"activeUsers\">Active users</th><th data-col=\"messagesPerMin\">Msg/min</th>"
			"<th data-col=\"messagesPerHour\">Msg/hour</th><th data-col=\"totalMessages\">Total</th>"
			"<th data-col=\"dropped\">Dropped</th><th data-col=\"lastActivity\">Last activity</th>"
			"</tr></thead>\n<tbody id=\"wsp-namespaces\">\n");
	json_array_foreach(nss, i, v) {
		const char *status = str(v, "status");

		wsp_buf_printf(b, "<tr class=\"wsp-ns-row wsp-ns-%s\" data-path=\"", dot_class(status) + 4);
		wsp_html_escape(b, str(v, "path"));
		wsp_buf_printf(b, "\"><td><span class=\"wsp-dot %s\"></span><span class=\"wsp-cell-text\">",
			       dot_class(status));
		wsp_html_escape(b, str(v, "path"));
		wsp_buf_puts(b, "</span></td>");
		td_num(b, num(v, "clientCount"));
		td_num(b, num(v, "activeUsers"));
		td_num(b, num(v, "messagesPerMin"));
		td_num(b, num(v, "messagesPerHour"));
		td_num(b, num(v, "totalMessages"));
		td_num(b, num(v, "dropped"));
		td(b, "", json_is_string(json_object_get(v, "lastActivity")) ? str(v, "lastActivity") : "never");
		wsp_buf_puts(b, "</tr>\n");
	}
	wsp_buf_puts(b, "</tbody>\n</table>\n</section>\n<section>\n<h2>Activity</h2>\n<ul id=\"wsp-activity\" class=\"wsp-activity\">\n");
	/* The stats list the log oldest first (jPulse's order); the page shows
	 * the newest first, as websocket-stats.js re-renders it. */
	for (i = json_array_size(log); i-- > 0;) {
		v = json_array_get(log, i);
		wsp_buf_puts(b, "<li class=\"wsp-activity-item\"><time class=\"wsp-time\">");
		wsp_html_escape(b, str(v, "timestamp"));
		wsp_buf_puts(b, "</time> <span class=\"wsp-ns\">");
		wsp_html_escape(b, str(v, "namespace"));
		wsp_buf_puts(b, "</span> <span class=\"wsp-dir\">");
		wsp_html_escape(b, str(v, "direction"));
		wsp_buf_puts(b, "</span> <span class=\"wsp-type\">");
		wsp_html_escape(b, str(v, "type"));
		wsp_buf_puts(b, "</span> <span class=\"wsp-user\">");
		wsp_html_escape(b, str(v, "username")[0] ? str(v, "username") : "\xE2\x80\x94");
		wsp_buf_puts(b, "</span> <span class=\"wsp-msg\">");
		wsp_html_escape(b, str(v, "message"));
		wsp_buf_puts(b, "</span></li>\n");
	}
	/* Filled by websocket-stats.js from GET /api/1/websocket/presence. */
	wsp_buf_puts(b, "</ul>\n</section>\n<section>\n<h2>Presence</h2>\n<table class=\"wsp-table\">\n<thead><tr>"
			"<th>Namespace</th><th>Users online</th><th>Workers</th><th>Logged-in users</th>"
			"</tr></thead>\n<tbody id=\"wsp-presence\">\n</tbody>\n</table>\n</section>\n");
	wsp_buf_puts(b, "<section>\n<h2>Daemons</h2>\n<table class=\"wsp-table\">\n<thead><tr>"
			"<th>Daemon</th><th>Host</th><th>PID</th><th>Workers</th><th>Uptime</th><th>State</th><th>Updated</th>"
			"</tr></thead>\n<tbody id=\"wsp-daemons\">\n");
	json_array_foreach(daemons, i, v) {
		int up = json_is_true(json_object_get(v, "up"));

		wsp_buf_printf(b, "<tr class=\"wsp-daemon%s\" data-id=\"", up ? "" : " wsp-down");
		wsp_html_escape(b, str(v, "id"));
		wsp_buf_printf(b, "\"><td><span class=\"wsp-dot wsp-%s\"></span>", up ? "green" : "red");
		wsp_html_escape(b, str(v, "id"));
		wsp_buf_puts(b, "</td>");
		td(b, "", str(v, "host"));
		td_num(b, num(v, "pid"));
		td_num(b, num(v, "workers"));
		wsp_format_duration(num(v, "uptime") / 1000, text, sizeof(text));
		td(b, "", text);
		td(b, "", up ? "up" : "down");
		td(b, "", str(v, "updatedAt"));
		wsp_buf_puts(b, "</tr>\n");
	}
	wsp_buf_puts(b, "</tbody>\n</table>\n</section>\n</main>\n"
			"<script src=\"/jpulse-ws.js\"></script>\n"
			"<script src=\"/admin/websocket-stats.js\"></script>\n</body>\n</html>\n");
	return b->oom ? WSP_ERR_NOMEM : 0;
}
