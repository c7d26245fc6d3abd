/* relay.c - see relay.h. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "daemon/bus.h"
#include "daemon/clock.h"
#include "daemon/cursor.h"
#include "daemon/delivery.h"
#include "daemon/envelope.h"
#include "daemon/history.h"
#include "daemon/presence.h"
#include "daemon/reader.h"
#include "daemon/relay.h"
#include "daemon/sessions.h"
#include "daemon/snapshot.h"
#include "daemon/supervisor.h"
#include "json.h"
#include "log.h"
#include "outbox.h"
#include "../presence.h"   /* the contract (src/presence.h), not daemon/presence.h */

#define NOTIFY_MAX 7800     /* PostgreSQL's NOTIFY payload limit is 8000 bytes */
#define STR_(x) #x
#define STR(x) STR_(x)
#define REPLAY_BATCH 500    /* rows per replay page */
#define START_GRACE "10"    /* s: how long a transaction may sit between its insert and commit */

/* See wsp__relay_channels (relay.h). */
static const char *const channels[] = { WSP_OUTBOX_CHANNEL, WSP_SESSION_CHANNEL, WSP_BCAST_CHANNEL,
					WSP_PRESENCE_CHANNEL, NULL };

const char *const *wsp__relay_channels(void)
{
	return channels;
}

/* One per daemon (srv->relay). */
struct wsp_relay {
	wsp_server *srv;
	char *fetch_ids;             /* "{1,2,3" being collected */
	bool fetch_queued;
	json_t *batch;               /* pending module broadcasts (array) */
	size_t batch_bytes;
	bool flush_scheduled;
	lws_sorted_usec_list_t flush_sul;
	wsp_log_limit lost_rl;       /* "broadcast lost" warn lines */
	bool replay_again;           /* the shared reader restarted during a replay: one more */
	bool reader_replay;          /* the replay in flight is one the shared reader asked for */
};

static void replay(struct wsp_relay *R, long long from);
static void fetch_more(struct wsp_relay *R);

/* A broadcast that could not be queued (the bus went down): say so. */
static void lost(struct wsp_relay *R, const char *ns, const char *what)
{
	if (wsp_log_limit_ok(&R->lost_rl, 10, WSP_LOG_WARN, "broadcasts lost"))
		wsp_warn(ns, "%s lost: the database connection is down", what);
}

/* How a delivered message counts in this daemon's stats (stats.h): */
enum count_as {
	COUNT_OWN,      /* this daemon's own module message */
	COUNT_REST,     /* a REST broadcast: every worker counts it, the merge once */
	COUNT_NONE,     /* another daemon's module message: its origin counted it */
};

/* Deliver one message (data STOLEN) to local clients. */
static void deliver(wsp_namespace *ns, json_t *data, const char *username, const char *client_id,
		    long long id, enum count_as how)
{
	wsp_msg *m;

	if (wsp_envelope_stamp(data, username) == 0) {
		if (how == COUNT_OWN)
			wsp__ns_count(ns, wsp_envelope_type(data), username, data);
		else if (how == COUNT_REST)
			wsp__ns_count_rest(ns, id, wsp_envelope_type(data), username, data);
		/* Serialised only for someone: with workers, most rows reach
		 * workers that have no client in the namespace. */
		if (ns->clients &&
		    (m = wsp_envelope_success_floor(data, id, id >= 0 ? wsp__cursor_floor(ns->srv->cursor) : -1))) {
			wsp__deliver(ns, m, client_id, id);
			wsp_msg_unref(m);
		}
	}
	json_decref(data);
}

/* One outbox row: deliver unless seen or ours.  Origin '' is a REST
 * broadcast; any other origin is another daemon's module message (too big
 * for a NOTIFY, or in a history namespace), which that daemon counted. */
static void deliver_row(struct wsp_relay *R, const wsp_outbox_row *row)
{
	wsp_server *srv = R->srv;
	wsp_namespace *ns;
	json_t *data;

	if (!wsp__cursor_mark(srv->cursor, row->id))
		return;
	if (row->id > srv->metrics.outbox_delivered)
		srv->metrics.outbox_delivered = row->id;
	if (strcmp(row->origin, srv->id) == 0)
		return;
	ns = wsp_nsreg_find(&srv->reg, row->ns, strlen(row->ns));
	if (!ns)
		return;
	if (!*row->origin && !ns->clients && wsp_worker_index() > 1) {
		/* A REST broadcast for a namespace without a client here:
		 * counted (stats.h: every worker counts those) but not parsed.
		 * Its activity-log entry comes from worker 1, or from any
		 * worker that has a client there (the merge keeps one entry per
		 * outbox id).  With 16 workers, parsing every row in every
		 * worker was a quarter of their CPU (BENCHMARKS.md). */
		wsp__ns_tally_rest(ns);
		return;
	}
	data = wsp_envelope_from_payload(row->payload, strlen(row->payload), row->username);
	if (!data) {
		wsp_warn(row->ns, "outbox row %lld: payload is not a JSON object, skipped", row->id);
		return;
	}
	deliver(ns, data, row->username, row->all ? NULL : row->client_id, row->id,
		*row->origin ? COUNT_NONE : COUNT_REST);
}

/* Deliver the rows of a WSP_OUTBOX_COLS answer; returns the last row's id
 * (0 when none). */
static long long deliver_rows(struct wsp_relay *R, const wsp_bus_res *r)
{
	long long last = 0;

	for (int i = 0; i < wsp_bus_nrows(r); i++) {
		const char *col[WSP_OUTBOX_NCOLS];
		wsp_outbox_row row;

		for (int k = 0; k < WSP_OUTBOX_NCOLS; k++)
			col[k] = wsp_bus_get(r, i, k);
		if (wsp_outbox_row_decode(col, &row) < 0)
			continue;
		deliver_row(R, &row);
		last = row.id;
	}
	return last;
}

/* The replay is over (or cannot go on): NOTIFYd ids are fetched again and
 * the catch-ups that waited for it start. */
static void replay_end(struct wsp_relay *R)
{
	wsp__cursor_set_replaying(R->srv->cursor, false);
	fetch_more(R);
}

static void replay_done(void *arg, const wsp_bus_res *r, const char *error)
{
	struct wsp_relay *R = arg;
	int n = wsp_bus_nrows(r);
	long long last;

	if (!r) {
		/* A query that failed on a connection still up (a statement
		 * timeout) leaves the rows after the floor undelivered: start
		 * over.  Until the restart, NOTIFYd ids keep waiting behind the
		 * replay (the restart's bus_down drops them; the replay after
		 * the reconnect finds them), so no newer row overtakes the ones
		 * not replayed yet. */
		if (wsp_bus_up(R->srv->bus)) {
			char why[300];

			snprintf(why, sizeof(why), "the outbox replay failed: %s", error ? error : "?");
			wsp_bus_restart(R->srv->bus, why);
			return;
		}
		/* The connection dropped: the next `up` replays again. */
		wsp__cursor_set_replaying(R->srv->cursor, false);
		return;
	}
	last = deliver_rows(R, r);
	if (n == REPLAY_BATCH) {
		replay(R, last);
		return;
	}
	if (n)
		wsp_info("bus", "replayed outbox up to id %lld", last);
	if (R->replay_again) {
		/* The shared reader (re)started listening during this replay:
		 * what committed before that is found by one more from the floor. */
		R->replay_again = false;
		replay(R, wsp__cursor_floor(R->srv->cursor));
		return;
	}
	/* Ids notified during the replay: most were in its pages (the cursor
	 * skips them), the rest committed after its last page.  The metric
	 * counts this worker's catch-ups after its own (re)connects, not the
	 * ones a restart of the shared reader asked for. */
	if (!R->reader_replay)
		R->srv->metrics.replays_outbox++;
	R->reader_replay = false;
	replay_end(R);
	wsp__history_resume(R->srv);   /* clients that connected meanwhile */
	wsp_worker_ready();            /* a new worker is ready once caught up */
}

/* A replay is paged (REPLAY_BATCH rows, by id) and, while it runs, fetches
 * for NOTIFYd ids wait (fetch_more), so a newer row never overtakes older
 * replayed ones: per namespace, delivery stays in id (commit) order.  The
 * cursor says "replaying" only while a page is really queued: a page that
 * cannot be queued (the connection went) must not hold NOTIFY deliveries
 * back until the next reconnect. */
static void replay(struct wsp_relay *R, long long from)
{
	char f[32];
	const char *p[1] = { f };

	snprintf(f, sizeof(f), "%lld", from);
	if (wsp_bus_query(R->srv->bus, "SELECT " WSP_OUTBOX_COLS " FROM wsp_outbox WHERE id > $1::bigint "
			  "ORDER BY id LIMIT " STR(REPLAY_BATCH), 1, p, replay_done, R) == 0) {
		wsp__cursor_set_replaying(R->srv->cursor, true);
		return;
	}
	replay_end(R);
}

static void floor_done(void *arg, const wsp_bus_res *r, const char *error)
{
	struct wsp_relay *R = arg;
	wsp_server *srv = R->srv;

	if (!r || wsp_bus_nrows(r) != 1) {
		/* As in replay_done: without its floor the daemon cannot start;
		 * NOTIFYd ids wait until the restart. */
		if (wsp_bus_up(srv->bus)) {
			char why[300];

			snprintf(why, sizeof(why), "the outbox floor query failed: %s", r ? "no row" : error ? error : "?");
			wsp_bus_restart(srv->bus, why);
			return;
		}
		wsp__cursor_set_replaying(srv->cursor, false);
		return;
	}
	wsp__cursor_start(srv->cursor, atoll(wsp_bus_get(r, 0, 0)));
	/* The rows committed before our start above that floor count as
	 * delivered; ids among them left unmarked may still commit. */
	for (const char *ids = wsp_bus_get(r, 0, 1); *ids;) {
		char *end;
		long long id = strtoll(ids, &end, 10);

		if (end == ids)
			break;
		wsp__cursor_mark(srv->cursor, id);
		ids = end + strspn(end, ",");
	}
	if (wsp__cursor_floor(srv->cursor) > srv->metrics.outbox_delivered)
		srv->metrics.outbox_delivered = wsp__cursor_floor(srv->cursor);   /* all before our start counts as handled */
	wsp_debug("bus", "outbox floor %lld", wsp__cursor_floor(srv->cursor));
	replay(R, wsp__cursor_floor(srv->cursor));
}

static void fetch_done(void *arg, const wsp_bus_res *r, const char *error);

/* Queue one fetch of the ids collected so far. */
static void fetch_more(struct wsp_relay *R)
{
	char *ids = R->fetch_ids;
	const char *p[1];
	size_t n;

	if (R->fetch_queued || !ids || wsp__cursor_replaying(R->srv->cursor))
		return;
	R->fetch_ids = NULL;
	n = strlen(ids);
	ids[n] = '}';   /* room was reserved */
	ids[n + 1] = '\0';
	p[0] = ids;
	if (wsp_bus_query(R->srv->bus, "SELECT " WSP_OUTBOX_COLS " FROM wsp_outbox WHERE id = ANY($1::bigint[]) "
			  "ORDER BY id", 1, p, fetch_done, R) == 0)
		R->fetch_queued = true;
	/* else: the connection is down; the replay after the next `up`
	 * covers these ids. */
	wsp_free(ids);
}

static void fetch_done(void *arg, const wsp_bus_res *r, const char *error)
{
	struct wsp_relay *R = arg;

	(void)error;
	R->fetch_queued = false;
	if (!r)
		return;
	deliver_rows(R, r);
	fetch_more(R);   /* ids that arrived meanwhile */
}

/* A NOTIFY on wsp_outbox.  A whole row is delivered at once when no fetch
 * or replay is pending (notifications come in commit order, so nothing
 * older can be outstanding); otherwise only its id is queued, and the
 * fetch keeps the order. */
static void on_outbox_notify(struct wsp_relay *R, const char *text)
{
	wsp_server *srv = R->srv;
	size_t have = R->fetch_ids ? strlen(R->fetch_ids) : 0, add;
	char *p, *payload = wsp_strdup(text), id[24];
	wsp_outbox_row row;
	int kind;

	if (!payload)
		return;
	kind = wsp_outbox_notify_decode(payload, &row);
	/* With the shared reader (reader.h) notifications also come while our
	 * own connection is down, before the replay of what it missed: those
	 * wait for that replay (bus_up), or the order would break. */
	if (kind == 1 && wsp__cursor_floor(srv->cursor) >= 0 && wsp_bus_up(srv->bus) &&
	    !wsp__cursor_replaying(srv->cursor) && !R->fetch_queued && !R->fetch_ids) {
		deliver_row(R, &row);
		wsp_free(payload);
		return;
	}
	wsp_free(payload);
	if (kind < 0 || wsp__cursor_seen(srv->cursor, row.id))
		return;
	add = (size_t)snprintf(id, sizeof(id), "%lld", row.id);
	p = wsp_realloc(R->fetch_ids, have + add + 4);
	if (!p)
		return;
	p[have] = have ? ',' : '{';
	have++;
	memcpy(p + have, id, add + 1);
	R->fetch_ids = p;
	fetch_more(R);
}

static void on_bcast(struct wsp_relay *R, const char *payload)
{
	wsp_server *srv = R->srv;
	json_t *arr = json_loads(payload, 0, NULL), *it;
	size_t i;

	json_array_foreach(arr, i, it) {
		const char *o = json_string_value(json_object_get(it, "o"));
		const char *n = json_string_value(json_object_get(it, "n"));
		const char *c = json_string_value(json_object_get(it, "c"));
		const char *u = json_string_value(json_object_get(it, "u"));
		json_t *d = json_object_get(it, "d");
		wsp_namespace *ns;

		if (!o || !n || !json_is_object(d) || strcmp(o, srv->id) == 0)
			continue;
		ns = wsp_nsreg_find(&srv->reg, n, strlen(n));
		if (ns)
			deliver(ns, json_incref(d), u ? u : "", c, -1, COUNT_NONE);   /* counted by o */
	}
	json_decref(arr);
}

/* ---- the bus's hooks */

static void bus_up(void *arg)
{
	struct wsp_relay *R = arg;
	wsp_server *srv = R->srv;
	char start[32];
	const char *p[1] = { start };

	srv->bus_down_since_ms = 0;
	R->replay_again = false;
	R->reader_replay = false;
	srv->metrics.pg_connects++;
	wsp__sessions_bus_up(srv);
	if (wsp__cursor_floor(srv->cursor) < 0) {
		/* First contact: everything committed since this daemon started is
		 * new to it (a DB that was down at start-up is caught up here).
		 * Not simply "floor = the newest id created before our start": a
		 * transaction that inserted a smaller id before it and commits
		 * after it (ids commit out of order) would then lie below the
		 * floor and never be delivered by this daemon -- the chaos drill
		 * lost such a row after a daemon restart.  So the floor is the
		 * newest id created START_GRACE seconds before our start, and the
		 * rows committed since then, before our start, are marked.  NOTIFYd
		 * ids wait (replaying) until the floor query's replay ends. */
		snprintf(start, sizeof(start), "%.3f", srv->started_ms / 1000.0);
		wsp__cursor_set_replaying(srv->cursor,
			wsp_bus_query(srv->bus, "WITH f AS (SELECT coalesce(max(id), 0) AS floor FROM wsp_outbox WHERE created_at < "
					  "to_timestamp($1::float8) - make_interval(secs => " START_GRACE ")) "
					  "SELECT f.floor, array_to_string(ARRAY(SELECT id FROM wsp_outbox WHERE id > f.floor "
					  "AND created_at < to_timestamp($1::float8) ORDER BY id), ',') FROM f",
					  1, p, floor_done, R) == 0);
	} else {
		replay(R, wsp__cursor_floor(srv->cursor));
	}
	wsp__snapshot_tick(srv);
	wsp__presence_bus_up(srv);
}

static void bus_down(void *arg)
{
	struct wsp_relay *R = arg;
	wsp_server *srv = R->srv;

	wsp__presence_bus_down(srv);

	srv->bus_down_since_ms = wsp__mono_ms();
	R->fetch_queued = false;
	R->replay_again = false;
	R->reader_replay = false;
	wsp__cursor_set_replaying(srv->cursor, false);
	wsp_free(R->fetch_ids);
	R->fetch_ids = NULL;
	json_decref(R->batch);
	R->batch = NULL;
	R->batch_bytes = 0;
}

static void bus_notify(void *arg, const char *channel, const char *payload)
{
	struct wsp_relay *R = arg;

	if (strcmp(channel, WSP_OUTBOX_CHANNEL) == 0)
		on_outbox_notify(R, payload);
	else if (strcmp(channel, WSP_BCAST_CHANNEL) == 0)
		on_bcast(R, payload);
	else if (strcmp(channel, WSP_PRESENCE_CHANNEL) == 0)
		wsp__presence_notify(R->srv, payload);
	else if (strcmp(channel, WSP_SESSION_CHANNEL) == 0)
		wsp__sessions_notify(R->srv, payload);
}

/* ---- module broadcasts between daemons */

static void flush_batch(lws_sorted_usec_list_t *sul)
{
	struct wsp_relay *R = lws_container_of(sul, struct wsp_relay, flush_sul);
	char *text;
	const char *p[1];
	size_t n;

	R->flush_scheduled = false;
	if (!R->batch)
		return;
	n = json_array_size(R->batch);
	text = wsp_json_dump(R->batch, NULL);
	json_decref(R->batch);
	R->batch = NULL;
	R->batch_bytes = 0;
	if (!text)
		return;
	p[0] = text;
	if (wsp_bus_query(R->srv->bus, "SELECT pg_notify('" WSP_BCAST_CHANNEL "', $1)", 1, p, NULL, NULL) < 0)
		lost(R, NULL, n == 1 ? "a module broadcast to other daemons" : "module broadcasts to other daemons");
	wsp_free(text);
}

void wsp__relay_broadcast(wsp_namespace *ns, json_t *data, const char *username,
			  const char *client_id)
{
	wsp_server *srv = ns->srv;
	struct wsp_relay *R = srv->relay;
	json_t *item;
	size_t len = 0;
	char *text;

	if (!R || !wsp_bus_up(srv->bus))
		return;
	item = json_pack("{s:s, s:s, s:s?, s:s, s:O}", "o", srv->id, "n", ns->path, "c", client_id,
			 "u", username ? username : "", "d", data);
	if (!item)
		return;
	text = wsp_json_dump(item, &len);
	wsp_free(text);
	if (!text) {
		json_decref(item);
		return;
	}
	if (len + 2 > NOTIFY_MAX) {
		/* Too big for a NOTIFY: through the outbox (origin = us, so we do
		 * not deliver it twice). */
		char *payload = wsp_json_dump(data, NULL);
		const char *p[WSP_OUTBOX_NPARAMS];

		p[WSP_OUTBOX_P_NAMESPACE] = ns->path;
		p[WSP_OUTBOX_P_PAYLOAD] = payload;
		p[WSP_OUTBOX_P_USERNAME] = username ? username : "";
		p[WSP_OUTBOX_P_CLIENT_ID] = client_id;
		p[WSP_OUTBOX_P_ORIGIN] = srv->id;
		if (payload && wsp_bus_query(srv->bus, WSP_OUTBOX_SQL_INSERT, WSP_OUTBOX_NPARAMS, p, NULL, NULL) < 0)
			lost(R, ns->path, "a module broadcast to other daemons");
		wsp_free(payload);
		json_decref(item);
		return;
	}
	if (R->batch && R->batch_bytes + len + 1 > NOTIFY_MAX) {
		lws_sul_cancel(&R->flush_sul);
		flush_batch(&R->flush_sul);
	}
	if (!R->batch) {
		R->batch = json_array();
		R->batch_bytes = 2;
	}
	json_array_append_new(R->batch, item);
	R->batch_bytes += len + 1;
	if (!R->flush_scheduled) {
		R->flush_scheduled = true;
		/* Everything broadcast in this loop turn (and the next ms) goes
		 * out as ONE notification. */
		lws_sul_schedule(srv->ctx, 0, &R->flush_sul, flush_batch, 1000);
	}
}

/* ---- history namespaces: outbox first, then deliver with the id */

struct hist {
	wsp_namespace *ns;
	json_t *data;
	char *username, *client_id;
};

static void hist_done(void *arg, const wsp_bus_res *r, const char *error)
{
	struct hist *h = arg;
	long long id = -1;

	(void)error;
	if (r && wsp_bus_nrows(r) == 1) {
		id = atoll(wsp_bus_get(r, 0, 0));
		if (wsp__cursor_floor(h->ns->srv->cursor) >= 0)
			wsp__cursor_mark(h->ns->srv->cursor, id);
	}
	deliver(h->ns, h->data, h->username, h->client_id, id, COUNT_OWN);
	wsp_free(h->username);
	wsp_free(h->client_id);
	wsp_free(h);
}

int wsp__relay_history(wsp_namespace *ns, json_t *data, const char *username,
		       const char *client_id)
{
	wsp_server *srv = ns->srv;
	struct hist *h;
	char *payload;
	const char *p[WSP_OUTBOX_NPARAMS];

	if (!srv->bus || !wsp_bus_up(srv->bus)) {
		deliver(ns, data, username ? username : "", client_id, -1, COUNT_OWN);
		return 0;
	}
	h = wsp_calloc(1, sizeof(*h));
	payload = wsp_json_dump(data, NULL);
	if (!h || !payload || !(h->username = wsp_strdup(username ? username : "")) ||
	    (client_id && !(h->client_id = wsp_strdup(client_id)))) {
		if (h)
			wsp_free(h->username);
		wsp_free(h);
		wsp_free(payload);
		json_decref(data);
		return WSP_ERR_NOMEM;
	}
	h->ns = ns;
	h->data = data;
	p[WSP_OUTBOX_P_NAMESPACE] = ns->path;
	p[WSP_OUTBOX_P_PAYLOAD] = payload;
	p[WSP_OUTBOX_P_USERNAME] = h->username;
	p[WSP_OUTBOX_P_CLIENT_ID] = client_id;
	p[WSP_OUTBOX_P_ORIGIN] = srv->id;
	if (wsp_bus_query(srv->bus, WSP_OUTBOX_SQL_INSERT_ID, WSP_OUTBOX_NPARAMS, p, hist_done, h) < 0)
		hist_done(h, NULL, NULL);
	wsp_free(payload);
	return 0;
}

/* The supervisor's reader is listening (again): notifications from before
 * may be missing, so replay from the floor and reload the revocations, as
 * after a reconnect of our own.  Nothing to do while our own connection is
 * down or its first replay is still to come: bus_up does both. */
static void reader_up(void *arg)
{
	struct wsp_relay *R = arg;
	wsp_server *srv = R->srv;

	if (!wsp_bus_up(srv->bus) || wsp__cursor_floor(srv->cursor) < 0)
		return;
	wsp__sessions_bus_up(srv);
	if (wsp__cursor_replaying(srv->cursor)) {
		R->replay_again = true;
	} else {
		R->reader_replay = true;
		replay(R, wsp__cursor_floor(srv->cursor));
	}
}

int wsp__relay_start(wsp_server *srv)
{
	static const wsp_bus_hooks hooks = { bus_up, bus_down, bus_notify };
	static const wsp_reader_hooks rhooks = { reader_up, bus_notify };
	static const char *const none[] = { NULL };
	struct wsp_relay *R = wsp_calloc(1, sizeof(*R));
	int rfd = wsp_worker_reader_fd();

	if (!R)
		return WSP_ERR_NOMEM;
	R->srv = srv;
	srv->relay = R;
	/* A worker with the supervisor's reader (reader.h) LISTENs to nothing
	 * itself: PostgreSQL then wakes one backend per commit, not one per
	 * worker. */
	srv->shared_reader = rfd >= 0 && wsp_reader_worker_start(srv->vh, rfd, &rhooks, R) == 0;
	if (rfd >= 0 && !srv->shared_reader)
		wsp_warn("bus", "cannot adopt the shared reader's socket: listening on our own connection");
	srv->bus_down_since_ms = wsp__mono_ms();   /* until bus_up */
	srv->bus = wsp_bus_new(srv->ctx, srv->vh, srv->cfg->database,
			       srv->shared_reader ? none : channels, &hooks, R);
	return srv->bus ? 0 : WSP_ERR_NOMEM;
}

void wsp__relay_stop(wsp_server *srv)
{
	struct wsp_relay *R = srv->relay;

	wsp_bus_free(srv->bus);
	srv->bus = NULL;
	if (!R)
		return;
	lws_sul_cancel(&R->flush_sul);
	json_decref(R->batch);
	wsp_free(R->fetch_ids);
	wsp_free(R);
	srv->relay = NULL;
}
