/* metrics.h - the counters an operator scrapes, and their Prometheus text.
 *
 * Each wspulsed process (each worker) counts into one wsp_metrics and puts
 * them, with its socket and send-queue totals, under "metrics" in the stats
 * snapshot row it writes every stats_interval (wsp_daemon_stats).
 * wspulse.fcgi serves GET /api/1/websocket/metrics by rendering every row with
 * wsp_metrics_render: one scrape sees every daemon and worker sharing the
 * database, each labelled daemon="<its id>", and wspulse_daemon_up says
 * which rows are live.  (A per-process endpoint on the daemon could not be
 * scraped per worker: the workers share one listening socket.)
 *
 * Pure: no lws, no libpq; unit-tested, and the rendered text is checked
 * with `promtool check metrics` by tests/integration/metrics.test.mjs.
 */
#ifndef WSP_DAEMON_METRICS_H
#define WSP_DAEMON_METRICS_H

#include <jansson.h>

/* Why a WebSocket upgrade was refused: the handshake rule that refused it
 * names it (hsrules.c), the 431 of rxhook.c too; anything else (a bad
 * Sec-WebSocket-Key, a module's refusal) is WSP_REFUSED_OTHER. */
enum wsp_refusal {
	WSP_REFUSED_UNKNOWN_NAMESPACE,   /* 404 */
	WSP_REFUSED_UNAUTHORIZED,        /* 401: not logged in, or a connection token or proxy user refused */
	WSP_REFUSED_ROLE,                /* 403: a role is missing, or the token's ns claim */
	WSP_REFUSED_ORIGIN,              /* 403: Origin not allowed */
	WSP_REFUSED_PER_ADDRESS,         /* 429: max_connections_per_ip */
	WSP_REFUSED_CAPACITY,            /* 503: max_connections */
	WSP_REFUSED_SHUTTING_DOWN,       /* 503 */
	WSP_REFUSED_HEADERS_TOO_LARGE,   /* 431: the request head over WSP_REQUEST_HEAD_MAX */
	WSP_REFUSED_OTHER,
	WSP_REFUSED_N
};

/* One per daemon process; zero-initialised, caller-owned. */
typedef struct wsp_metrics {
	unsigned long long refused[WSP_REFUSED_N];
	unsigned long long messages_in;      /* whole client messages received */
	unsigned long long messages_out;     /* messages queued to a socket */
	unsigned long long messages_dropped; /* never sent: a send queue overflowed */
	unsigned long long pg_connects;      /* PostgreSQL connections made (1 + reconnects) */
	unsigned long long replays_outbox;   /* outbox replays after (re)connecting */
	unsigned long long replays_client;   /* ?since= catch-ups of a client */
	unsigned long long replays_queue;    /* catch-ups of a reading client a burst overflowed */
	unsigned long long replays_queue_pages;  /* ... of those, paged from the outbox (not all from memory) */
	long long outbox_delivered;          /* highest outbox id handled (0: none) */
} wsp_metrics;

/* The snapshot's "metrics" object (NEW reference, NULL when out of memory)
 * with the process's current send-queue bytes and the bytes its
 * namespaces' backlogs keep (backlog.h). */
json_t *wsp_metrics_json(const wsp_metrics *m, long long send_queue_bytes, long long backlog_bytes);

/* Render Prometheus text format 0.0.4.  `rows` is an array of
 * {id, host, up (bool), age (s since the row was written), stats (the
 * snapshot, may be null)}; `newest_outbox_id` the newest committed outbox
 * id (0 when the outbox is empty).  Returns a malloc'd NUL-terminated text
 * (free with wsp_free) or NULL when out of memory. */
char *wsp_metrics_render(json_t *rows, long long newest_outbox_id);

#endif
