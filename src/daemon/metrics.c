/* metrics.c - see metrics.h. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "daemon/metrics.h"

/* The "refused" object's keys and the metric's reason labels. */
static const char *const refusal_labels[WSP_REFUSED_N] = {
	[WSP_REFUSED_UNKNOWN_NAMESPACE] = "unknown_namespace",
	[WSP_REFUSED_UNAUTHORIZED] = "not_logged_in",
	[WSP_REFUSED_ROLE] = "role_missing",
	[WSP_REFUSED_ORIGIN] = "origin_not_allowed",
	[WSP_REFUSED_PER_ADDRESS] = "per_address_limit",
	[WSP_REFUSED_CAPACITY] = "max_connections",
	[WSP_REFUSED_SHUTTING_DOWN] = "shutting_down",
	[WSP_REFUSED_HEADERS_TOO_LARGE] = "headers_too_large",
	[WSP_REFUSED_OTHER] = "other",
};

json_t *wsp_metrics_json(const wsp_metrics *m, long long send_queue_bytes, long long backlog_bytes)
{
	json_t *refused = json_object(), *o;

	if (!refused)
		return NULL;
	for (int i = 0; i < WSP_REFUSED_N; i++)
		json_object_set_new(refused, refusal_labels[i], json_integer((json_int_t)m->refused[i]));
	o = json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "refused", refused,
		      "messagesIn", (json_int_t)m->messages_in, "messagesOut", (json_int_t)m->messages_out,
		      "messagesDropped", (json_int_t)m->messages_dropped,
		      "pgConnects", (json_int_t)m->pg_connects, "replaysOutbox", (json_int_t)m->replays_outbox,
		      "replaysClient", (json_int_t)m->replays_client,
		      "replaysQueue", (json_int_t)m->replays_queue,
		      "replaysQueuePages", (json_int_t)m->replays_queue_pages,
		      "outboxDelivered", (json_int_t)m->outbox_delivered,
		      "sendQueueBytes", (json_int_t)send_queue_bytes, "backlogBytes", (json_int_t)backlog_bytes);
	return o;
}

/* A growing text buffer; `failed` once an allocation failed. */
struct out {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t cap = o->cap * 2 + (size_t)n;
			char *p = wsp_realloc(o->p, cap);

			if (!p) {
				o->failed = true;
				return;
			}
			o->p = p;
			o->cap = cap;
		}
	}
}

/* A label value with \, " and newline escaped (text format 0.0.4). */
static void put_label(struct out *o, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			put(o, "\\\\");
		else if (*s == '"')
			put(o, "\\\"");
		else if (*s == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *s);
	}
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long long num(json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

static json_t *metrics_of(json_t *row)
{
	json_t *st = json_object_get(row, "stats");

	return json_is_true(json_object_get(row, "up")) ? json_object_get(st, "metrics") : NULL;
}

/* One sample per live row: name{daemon="id"} value. */
static void per_daemon(struct out *o, json_t *rows, const char *name, const char *key)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row) {
		json_t *m = metrics_of(row);

		if (!m)
			continue;
		put(o, "%s{daemon=\"", name);
		put_label(o, json_string_value(json_object_get(row, "id")));
		put(o, "\"} %lld\n", num(m, key));
	}
}

char *wsp_metrics_render(json_t *rows, long long newest)
{
	struct out o = { wsp_malloc(4096), 0, 4096, false };
	size_t i, j;
	json_t *row, *ns;

	if (!o.p)
		return NULL;
	o.p[0] = '\0';
	head(&o, "wspulse_daemon_up", "gauge",
	     "1 if the daemon (worker) wrote its stats row within 3 stats_interval, else 0.");
	json_array_foreach(rows, i, row) {
		put(&o, "wspulse_daemon_up{daemon=\"");
		put_label(&o, json_string_value(json_object_get(row, "id")));
		put(&o, "\",host=\"");
		put_label(&o, json_string_value(json_object_get(row, "host")));
		put(&o, "\"} %d\n", metrics_of(row) ? 1 : 0);
	}
	head(&o, "wspulse_stats_age_seconds", "gauge", "Seconds since the daemon's stats row (these values) was written.");
	json_array_foreach(rows, i, row) {
		put(&o, "wspulse_stats_age_seconds{daemon=\"");
		put_label(&o, json_string_value(json_object_get(row, "id")));
		put(&o, "\"} %lld\n", num(row, "age"));
	}
	head(&o, "wspulse_sockets", "gauge", "Open WebSockets per namespace.");
	json_array_foreach(rows, i, row) {
		if (!metrics_of(row))
			continue;
		json_array_foreach(json_object_get(json_object_get(row, "stats"), "namespaces"), j, ns) {
			put(&o, "wspulse_sockets{daemon=\"");
			put_label(&o, json_string_value(json_object_get(row, "id")));
			put(&o, "\",namespace=\"");
			put_label(&o, json_string_value(json_object_get(ns, "path")));
			put(&o, "\"} %lld\n", num(ns, "clientCount"));
		}
	}
	head(&o, "wspulse_clients_dropped_total", "counter",
	     "Sockets closed with 1008 because their send queue was full, per namespace.");
	json_array_foreach(rows, i, row) {
		if (!metrics_of(row))
			continue;
		json_array_foreach(json_object_get(json_object_get(row, "stats"), "namespaces"), j, ns) {
			put(&o, "wspulse_clients_dropped_total{daemon=\"");
			put_label(&o, json_string_value(json_object_get(row, "id")));
			put(&o, "\",namespace=\"");
			put_label(&o, json_string_value(json_object_get(ns, "path")));
			put(&o, "\"} %lld\n", num(ns, "dropped"));
		}
	}
	head(&o, "wspulse_handshakes_refused_total", "counter", "WebSocket upgrades refused, by reason.");
	json_array_foreach(rows, i, row) {
		json_t *m = metrics_of(row), *refused = json_object_get(m, "refused");

		if (!m)
			continue;
		for (int r = 0; r < WSP_REFUSED_N; r++) {
			put(&o, "wspulse_handshakes_refused_total{daemon=\"");
			put_label(&o, json_string_value(json_object_get(row, "id")));
			put(&o, "\",reason=\"%s\"} %lld\n", refusal_labels[r], num(refused, refusal_labels[r]));
		}
	}
	head(&o, "wspulse_messages_received_total", "counter", "Whole messages received from clients.");
	per_daemon(&o, rows, "wspulse_messages_received_total", "messagesIn");
	head(&o, "wspulse_messages_sent_total", "counter", "Messages queued to client sockets.");
	per_daemon(&o, rows, "wspulse_messages_sent_total", "messagesOut");
	head(&o, "wspulse_messages_dropped_total", "counter",
	     "Messages never sent because a client's send queue overflowed (the client is closed).");
	per_daemon(&o, rows, "wspulse_messages_dropped_total", "messagesDropped");
	head(&o, "wspulse_send_queue_bytes", "gauge", "Bytes waiting in every client's send queue.");
	per_daemon(&o, rows, "wspulse_send_queue_bytes", "sendQueueBytes");
	head(&o, "wspulse_backlog_bytes", "gauge",
	     "Bytes of outbox deliveries kept in memory for clients a burst left behind (backlog_max_bytes).");
	per_daemon(&o, rows, "wspulse_backlog_bytes", "backlogBytes");
	head(&o, "wspulse_outbox_newest_id", "gauge", "The newest committed outbox id (REST broadcasts).");
	put(&o, "wspulse_outbox_newest_id %lld\n", newest);
	head(&o, "wspulse_outbox_delivered_id", "gauge", "The newest outbox id the daemon has handled.");
	per_daemon(&o, rows, "wspulse_outbox_delivered_id", "outboxDelivered");
	head(&o, "wspulse_outbox_lag", "gauge",
	     "Outbox ids committed but not yet handled by the daemon (newest minus delivered, at least 0).");
	json_array_foreach(rows, i, row) {
		json_t *m = metrics_of(row);
		long long lag;

		if (!m)
			continue;
		lag = newest - num(m, "outboxDelivered");
		put(&o, "wspulse_outbox_lag{daemon=\"");
		put_label(&o, json_string_value(json_object_get(row, "id")));
		put(&o, "\"} %lld\n", lag > 0 ? lag : 0);
	}
	head(&o, "wspulse_postgres_reconnects_total", "counter",
	     "Times the daemon connected to PostgreSQL again after losing the connection.");
	json_array_foreach(rows, i, row) {
		json_t *m = metrics_of(row);
		long long n;

		if (!m)
			continue;
		n = num(m, "pgConnects");
		put(&o, "wspulse_postgres_reconnects_total{daemon=\"");
		put_label(&o, json_string_value(json_object_get(row, "id")));
		put(&o, "\"} %lld\n", n > 1 ? n - 1 : 0);
	}
	static const char *const kinds[][2] = { { "outbox", "replaysOutbox" }, { "client", "replaysClient" },
						{ "queue", "replaysQueue" }, { "queue_pages", "replaysQueuePages" } };

	head(&o, "wspulse_catchup_replays_total", "counter",
	     "Catch-ups: kind=\"outbox\" the daemon's replay after (re)connecting, kind=\"client\" a client's ?since=, "
	     "kind=\"queue\" a reading client given more at once than its send queue holds, kind=\"queue_pages\" those of "
	     "them that paged from the outbox (the namespace's backlog off, full, or left behind).");
	json_array_foreach(rows, i, row) {
		json_t *m = metrics_of(row);

		if (!m)
			continue;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			put(&o, "wspulse_catchup_replays_total{daemon=\"");
			put_label(&o, json_string_value(json_object_get(row, "id")));
			put(&o, "\",kind=\"%s\"} %lld\n", kinds[k][0], num(m, kinds[k][1]));
		}
	}
	if (o.failed) {
		wsp_free(o.p);
		return NULL;
	}
	return o.p;
}
