/* relay.c - everything that crosses PostgreSQL.
 *
 *   wsp_outbox   NOTIFY on commit of an outbox row (REST broadcasts,
 *                large module broadcasts, every history-namespace message):
 *                the row itself when it fits (notify_row), else '<id>'; ids
 *                are fetched, each row delivered once (idwin), and after a
 *                reconnect we replay `id > floor`.
 *   wsp_bcast    module broadcasts that fit a NOTIFY: a JSON array of
 *                {"o":origin,"n":namespace,"c":recipient|null (daemon.h),"u":username,
 *                 "d":data}, batched per loop turn, no table write at all.
 *   wsp_session  'revoke:<sid>:<reason>': close that session's sockets.
 *
 * Plus the stats snapshot row every stats_interval, the cluster-wide sum read
 * back for jpulse-ws-status, and outbox garbage collection.
 */
#include "config.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "daemon/bus.h"
#include "daemon/daemon.h"
#include "daemon/envelope.h"
#include "daemon/reader.h"
#include "daemon/workers.h"
#include "json.h"
#include "log.h"
#include "presence.h"

#define NOTIFY_MAX 7800     /* PostgreSQL's NOTIFY payload limit is 8000 bytes */
#define REPLAY_BATCH 500
#define START_GRACE "10"    /* s: how long a transaction may sit between its insert and commit */
#define ROW_COLS "id, namespace, payload, username, coalesce(client_id, ''), client_id IS NULL, origin"

const char *const wsp__relay_channels[] = { "wsp_outbox", "wsp_session", "wsp_bcast", WSP_PRESENCE_CHANNEL, NULL };

static void replay(wsp_server *srv, long long from);
static void fetch_more(wsp_server *srv);

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
		    (m = wsp_envelope_success_floor(data, id, id >= 0 && ns->srv->floor_known ? ns->srv->seen.floor : -1))) {
			wsp__ns_send(ns, m, client_id, id);
			wsp_msg_unref(m);
		}
	}
	json_decref(data);
}

/* One outbox row: deliver unless seen or ours.  Origin '' is a REST
 * broadcast; any other origin is another daemon's module message (too big
 * for a NOTIFY, or in a history namespace), which that daemon counted. */
static void deliver_fields(wsp_server *srv, long long id, const char *path, const char *payload,
			   const char *username, const char *cid, bool all, const char *origin)
{
	wsp_namespace *ns;
	json_t *data;

	if (!wsp_idwin_mark(&srv->seen, id))
		return;
	if (id > srv->metrics.outbox_delivered)
		srv->metrics.outbox_delivered = id;
	if (strcmp(origin, srv->id) == 0)
		return;
	ns = wsp_nsreg_find(&srv->reg, path, strlen(path));
	if (!ns)
		return;
	data = wsp_envelope_from_payload(payload, strlen(payload), username);
	if (!data) {
		wsp_warn(path, "outbox row %lld: payload is not a JSON object, skipped", id);
		return;
	}
	deliver(ns, data, username, all ? NULL : cid, id, *origin ? COUNT_NONE : COUNT_REST);
}

static void deliver_row(wsp_server *srv, const wsp_bus_res *r, int i)
{
	deliver_fields(srv, atoll(wsp_bus_get(r, i, 0)), wsp_bus_get(r, i, 1), wsp_bus_get(r, i, 2),
		       wsp_bus_get(r, i, 3), wsp_bus_get(r, i, 4), strcmp(wsp_bus_get(r, i, 5), "t") == 0,
		       wsp_bus_get(r, i, 6));
}

static void replay_done(void *arg, const wsp_bus_res *r, const char *error)
{
	wsp_server *srv = arg;
	int n = wsp_bus_nrows(r);

	if (!r) {
		srv->outbox_replaying = false;
		return;  /* the connection dropped: the next `up` replays again */
	}
	for (int i = 0; i < n; i++)
		deliver_row(srv, r, i);
	if (n == REPLAY_BATCH) {
		replay(srv, atoll(wsp_bus_get(r, n - 1, 0)));
		return;
	}
	if (n)
		wsp_info("bus", "replayed outbox up to id %s", wsp_bus_get(r, n - 1, 0));
	if (srv->replay_again) {
		/* The shared reader (re)started listening during this replay:
		 * what committed before that is found by one more from the floor. */
		srv->replay_again = false;
		replay(srv, srv->seen.floor);
		return;
	}
	/* Ids notified during the replay: most were in its pages (idwin skips
	 * them), the rest committed after its last page. */
	srv->outbox_replaying = false;
	/* The metric counts this worker's catch-ups after its own (re)connects,
	 * not the ones a restart of the shared reader asked for. */
	if (!srv->reader_replay)
		srv->metrics.replays_outbox++;
	srv->reader_replay = false;
	fetch_more(srv);
	wsp__history_resume(srv);   /* clients that connected meanwhile */
	wsp_worker_ready();         /* a new worker is ready once caught up */
}

/* A replay is paged (REPLAY_BATCH rows, by id) and, while it runs, fetches
 * for NOTIFYd ids wait (fetch_more), so a newer row never overtakes older
 * replayed ones: per namespace, delivery stays in id (commit) order. */
static void replay(wsp_server *srv, long long from)
{
	char f[32];
	const char *p[1] = { f };

	srv->outbox_replaying = true;

	snprintf(f, sizeof(f), "%lld", from);
	wsp_bus_query(srv->bus, "SELECT " ROW_COLS " FROM wsp_outbox WHERE id > $1::bigint ORDER BY id LIMIT 500",
		      1, p, replay_done, srv);
}

static void floor_done(void *arg, const wsp_bus_res *r, const char *error)
{
	wsp_server *srv = arg;

	if (!r) {
		srv->outbox_replaying = false;
		return;
	}
	wsp_idwin_init(&srv->seen, atoll(wsp_bus_get(r, 0, 0)));
	/* The rows committed before our start above that floor count as
	 * delivered; ids among them left unmarked may still commit. */
	for (const char *ids = wsp_bus_get(r, 0, 1); *ids;) {
		char *end;
		long long id = strtoll(ids, &end, 10);

		if (end == ids)
			break;
		wsp_idwin_mark(&srv->seen, id);
		ids = end + strspn(end, ",");
	}
	srv->floor_known = true;
	if (srv->seen.floor > srv->metrics.outbox_delivered)
		srv->metrics.outbox_delivered = srv->seen.floor;   /* all before our start counts as handled */
	wsp_debug("bus", "outbox floor %lld", srv->seen.floor);
	replay(srv, srv->seen.floor);
}

static void fetch_done(void *arg, const wsp_bus_res *r, const char *error);

/* Queue one fetch of the ids collected so far. */
static void fetch_more(wsp_server *srv)
{
	char *ids = srv->fetch_ids;
	const char *p[1];
	size_t n;

	if (srv->fetch_queued || !ids || srv->outbox_replaying)
		return;
	srv->fetch_ids = NULL;
	n = strlen(ids);
	ids[n] = '}';   /* room was reserved */
	ids[n + 1] = '\0';
	p[0] = ids;
	if (wsp_bus_query(srv->bus, "SELECT " ROW_COLS " FROM wsp_outbox WHERE id = ANY($1::bigint[]) ORDER BY id",
			  1, p, fetch_done, srv) == 0)
		srv->fetch_queued = true;
	wsp_free(ids);
}

static void fetch_done(void *arg, const wsp_bus_res *r, const char *error)
{
	wsp_server *srv = arg;

	srv->fetch_queued = false;
	for (int i = 0; i < wsp_bus_nrows(r); i++)
		deliver_row(srv, r, i);
	if (r)
		fetch_more(srv);   /* ids that arrived meanwhile */
}

/* A NOTIFY that carries the whole row (db/008_outbox_notify_row.sql):
 * "<id>\n<t|f>\n<client_id>\n<origin>\n<username>\n<namespace>\n<payload>".
 * Delivered at once when no fetch or replay is pending (notifications come
 * in commit order, so nothing older can be outstanding); otherwise only its
 * id is queued, and the fetch keeps the order.  Returns the length of the id
 * at the start of payload, or 0 when it is not of that form. */
static size_t notify_row(wsp_server *srv, char *payload)
{
	char *f[7];
	size_t idlen = strspn(payload, "0123456789");
	char *p = payload;

	if (idlen == 0 || idlen > 20 || payload[idlen] != '\n')
		return 0;
	for (int i = 0; i < 6; i++) {
		f[i] = p;
		p = strchr(p, '\n');
		if (!p)
			return 0;
		*p++ = '\0';
	}
	f[6] = p;
	if ((f[1][0] != 't' && f[1][0] != 'f') || f[1][1])
		return 0;
	/* With the shared reader (reader.h) notifications also come while our
	 * own connection is down, before the replay of what it missed: those
	 * wait for that replay (bus_up), or the order would break. */
	if (srv->floor_known && wsp_bus_up(srv->bus) && !srv->outbox_replaying && !srv->fetch_queued &&
	    !srv->fetch_ids) {
		deliver_fields(srv, atoll(f[0]), f[5], f[6], f[4], f[2], f[1][0] == 't', f[3]);
		return SIZE_MAX;
	}
	return idlen;
}

static void on_outbox_notify(wsp_server *srv, const char *text)
{
	size_t have = srv->fetch_ids ? strlen(srv->fetch_ids) : 0, add;
	char *p, *payload = wsp_strdup(text);

	if (!payload)
		return;
	add = notify_row(srv, payload);
	if (add == SIZE_MAX) {
		wsp_free(payload);
		return;   /* delivered */
	}
	if (add)
		payload[add] = '\0';   /* only its id: fetched in order below */
	else
		add = strlen(payload);
	if (!*payload || strspn(payload, "0123456789") != add || add > 20) {
		wsp_free(payload);
		return;
	}
	if (srv->floor_known && wsp_idwin_seen(&srv->seen, atoll(payload))) {
		wsp_free(payload);
		return;
	}
	p = wsp_realloc(srv->fetch_ids, have + add + 4);
	if (!p) {
		wsp_free(payload);
		return;
	}
	if (!have)
		p[have++] = '{';
	else
		p[have++] = ',';
	memcpy(p + have, payload, add + 1);
	wsp_free(payload);
	srv->fetch_ids = p;
	fetch_more(srv);
}

static void revoke_sid(wsp_server *srv, const char *sid, const char *reason)
{
	int code = strcmp(reason, "roles") == 0 ? 4403 : 4401;
	int closed = 0;

	wsp_strmap_set(&srv->revoked, sid, code);
	for (int i = 0; i < srv->nns; i++) {
		wsp_namespace *ns = srv->nss[i];

		if (!ns->opts.require_auth)
			continue;
		for (wsp_client *c = ns->clients; c; c = c->next)
			if (c->user && strcmp(c->user->sid, sid) == 0) {
				wsp_client_close(c, code, code == 4403 ? "roles changed" : "session ended");
				closed++;
			}
	}
	if (closed)
		wsp_info(NULL, "session %.8s... revoked (%s): closed %d socket%s with %d", sid, reason,
			 closed, closed == 1 ? "" : "s", code);
}

static void revoked_done(void *arg, const wsp_bus_res *r, const char *error)
{
	wsp_server *srv = arg;

	if (!r)
		return;
	wsp_strmap_cleanup(&srv->revoked);
	for (int i = 0; i < wsp_bus_nrows(r); i++)
		revoke_sid(srv, wsp_bus_get(r, i, 0), wsp_bus_get(r, i, 1));
}

/* The revoked sessions, reloaded after every (re)connect: a revocation
 * notified while we were not listening still takes effect. */
static void load_revoked(wsp_server *srv)
{
	wsp_bus_query(srv->bus, "SELECT id, coalesce(revoke_reason, 'logout') FROM wsp_sessions "
				"WHERE revoked_at IS NOT NULL AND expires_at > now()", 0, NULL, revoked_done, srv);
}

static void on_bcast(wsp_server *srv, const char *payload)
{
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

static void bus_up(void *arg)
{
	wsp_server *srv = arg;
	char start[32];
	const char *p[1] = { start };

	srv->bus_down_since_ms = 0;
	srv->outbox_replaying = true;   /* until the floor query's replay ends */
	srv->replay_again = false;
	srv->reader_replay = false;
	srv->metrics.pg_connects++;
	load_revoked(srv);
	if (!srv->floor_known) {
		/* First contact: everything committed since this daemon started is
		 * new to it (a DB that was down at start-up is caught up here).
		 * Not simply "floor = the newest id created before our start": a
		 * transaction that inserted a smaller id before it and commits
		 * after it (ids commit out of order) would then lie below the
		 * floor and never be delivered by this daemon -- the chaos drill
		 * lost such a row after a daemon restart.  So the floor is the
		 * newest id created START_GRACE seconds before our start, and the
		 * rows committed since then, before our start, are marked. */
		snprintf(start, sizeof(start), "%.3f", srv->started_ms / 1000.0);
		wsp_bus_query(srv->bus, "WITH f AS (SELECT coalesce(max(id), 0) AS floor FROM wsp_outbox WHERE created_at < "
					"to_timestamp($1::float8) - make_interval(secs => " START_GRACE ")) "
					"SELECT f.floor, array_to_string(ARRAY(SELECT id FROM wsp_outbox WHERE id > f.floor "
					"AND created_at < to_timestamp($1::float8) ORDER BY id), ',') FROM f",
			      1, p, floor_done, srv);
	} else {
		replay(srv, srv->seen.floor);
	}
	wsp__relay_stats_tick(srv);
	wsp__presence_bus_up(srv);
}

static void bus_down(void *arg)
{
	wsp_server *srv = arg;

	wsp__presence_bus_down(srv);

	srv->bus_down_since_ms = wsp__mono_ms();
	srv->fetch_queued = false;
	srv->outbox_replaying = false;
	srv->replay_again = false;
	srv->reader_replay = false;
	wsp_free(srv->fetch_ids);
	srv->fetch_ids = NULL;
	json_decref(srv->batch);
	srv->batch = NULL;
	srv->batch_bytes = 0;
}

static void bus_notify(void *arg, const char *channel, const char *payload)
{
	wsp_server *srv = arg;

	if (strcmp(channel, "wsp_outbox") == 0) {
		on_outbox_notify(srv, payload);
	} else if (strcmp(channel, "wsp_bcast") == 0) {
		on_bcast(srv, payload);
	} else if (strcmp(channel, WSP_PRESENCE_CHANNEL) == 0) {
		wsp__presence_notify(srv, payload);
	} else if (strcmp(channel, "wsp_session") == 0 && strncmp(payload, "revoke:", 7) == 0) {
		char sid[WSP_SID_LEN + 1];
		const char *reason;

		if (strlen(payload) < 7 + WSP_SID_LEN + 1 || payload[7 + WSP_SID_LEN] != ':')
			return;
		memcpy(sid, payload + 7, WSP_SID_LEN);
		sid[WSP_SID_LEN] = '\0';
		reason = payload + 7 + WSP_SID_LEN + 1;
		revoke_sid(srv, sid, reason);
	}
}

/* ---- module broadcasts between daemons */

static void ignore(void *arg, const wsp_bus_res *r, const char *error)
{
	(void)arg;
	(void)r;
	(void)error;
}

static void flush_batch(lws_sorted_usec_list_t *sul)
{
	wsp_server *srv = lws_container_of(sul, wsp_server, flush_sul);
	char *text;
	const char *p[1];

	srv->flush_scheduled = false;
	if (!srv->batch)
		return;
	text = wsp_json_dump(srv->batch, NULL);
	json_decref(srv->batch);
	srv->batch = NULL;
	srv->batch_bytes = 0;
	if (!text)
		return;
	p[0] = text;
	wsp_bus_query(srv->bus, "SELECT pg_notify('wsp_bcast', $1)", 1, p, ignore, NULL);
	wsp_free(text);
}

void wsp__relay_broadcast(wsp_namespace *ns, json_t *data, const char *username,
			  const char *client_id)
{
	wsp_server *srv = ns->srv;
	json_t *item;
	size_t len = 0;
	char *text;

	if (!wsp_bus_up(srv->bus))
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
		const char *p[5] = { ns->path, payload, username ? username : "", client_id, srv->id };

		if (payload)
			wsp_bus_query(srv->bus, "INSERT INTO wsp_outbox (namespace, payload, username, client_id, origin) "
						"VALUES ($1, $2, $3, $4, $5)", 5, p, ignore, NULL);
		wsp_free(payload);
		json_decref(item);
		return;
	}
	if (srv->batch && srv->batch_bytes + len + 1 > NOTIFY_MAX) {
		lws_sul_cancel(&srv->flush_sul);
		flush_batch(&srv->flush_sul);
	}
	if (!srv->batch) {
		srv->batch = json_array();
		srv->batch_bytes = 2;
	}
	json_array_append_new(srv->batch, item);
	srv->batch_bytes += len + 1;
	if (!srv->flush_scheduled) {
		srv->flush_scheduled = true;
		/* Everything broadcast in this loop turn (and the next ms) goes
		 * out as ONE notification. */
		lws_sul_schedule(srv->ctx, 0, &srv->flush_sul, flush_batch, 1000);
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

	if (r && wsp_bus_nrows(r) == 1) {
		id = atoll(wsp_bus_get(r, 0, 0));
		if (h->ns->srv->floor_known)
			wsp_idwin_mark(&h->ns->srv->seen, id);
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
	const char *p[5];

	if (!wsp_bus_up(srv->bus)) {
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
	p[0] = ns->path;
	p[1] = payload;
	p[2] = h->username;
	p[3] = client_id;
	p[4] = srv->id;
	if (wsp_bus_query(srv->bus, "INSERT INTO wsp_outbox (namespace, payload, username, client_id, origin) "
				    "VALUES ($1, $2, $3, $4, $5) RETURNING id", 5, p, hist_done, h) < 0)
		hist_done(h, NULL, NULL);
	wsp_free(payload);
	return 0;
}

/* ---- ?since= catch-up of one client: history.c */

/* ---- stats snapshots */

static void cluster_done(void *arg, const wsp_bus_res *r, const char *error)
{
	wsp_server *srv = arg;
	json_t *rows, *merged;

	if (!r)
		return;
	rows = json_array();
	for (int i = 0; i < wsp_bus_nrows(r); i++) {
		json_t *st = json_loads(wsp_bus_get(r, i, 5), 0, NULL);

		json_array_append_new(rows, json_pack("{s:s, s:s, s:i, s:s, s:b, s:o}", "id", wsp_bus_get(r, i, 0),
						      "host", wsp_bus_get(r, i, 1), "pid", atoi(wsp_bus_get(r, i, 2)),
						      "updatedAt", wsp_bus_get(r, i, 3), "up",
						      strcmp(wsp_bus_get(r, i, 4), "t") == 0, "stats",
						      st ? st : json_object()));
	}
	merged = wsp_stats_merge(rows, wsp__now_ms() / 1000);
	json_decref(rows);
	if (merged) {
		json_decref(srv->cluster);
		srv->cluster = merged;
		srv->cluster_ms = wsp__now_ms();
	}
}

void wsp__relay_stats_tick(wsp_server *srv)
{
	json_t *st;
	char *text, pid[16], started[32], stale[16];

	if (!wsp_bus_up(srv->bus) || srv->stopping)
		return;
	st = wsp__local_stats(srv, true);
	text = st ? wsp_json_dump(st, NULL) : NULL;
	json_decref(st);
	if (!text)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(started, sizeof(started), "%.3f", srv->started_ms / 1000.0);
	snprintf(stale, sizeof(stale), "%ld", 3 * srv->cfg->stats_interval);
	{
		const char *p[5] = { srv->id, srv->host, pid, started, text };

		wsp_bus_query(srv->bus,
			      "INSERT INTO wsp_daemon_stats (daemon_id, host, pid, started_at, updated_at, stats) "
			      "VALUES ($1, $2, $3::int, to_timestamp($4::float8), now(), $5::jsonb) "
			      "ON CONFLICT (daemon_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, "
			      "started_at = EXCLUDED.started_at, updated_at = now(), stats = EXCLUDED.stats",
			      5, p, ignore, NULL);
	}
	{
		const char *p[1] = { stale };

		wsp_bus_query(srv->bus,
			      "SELECT daemon_id, host, pid, to_char(updated_at AT TIME ZONE 'UTC', "
			      "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), updated_at > now() - make_interval(secs => $1::int), "
			      "stats::text FROM wsp_daemon_stats ORDER BY daemon_id", 1, p, cluster_done, srv);
	}
	wsp_free(text);
}

static void stats_cb(lws_sorted_usec_list_t *sul)
{
	wsp_server *srv = lws_container_of(sul, wsp_server, stats_sul);

	if (srv->stopping)
		return;
	wsp__relay_stats_tick(srv);
	lws_sul_schedule(srv->ctx, 0, &srv->stats_sul, stats_cb,
			 (lws_usec_t)srv->cfg->stats_interval * LWS_US_PER_SEC);
}

/* Every second: close sockets whose session expired. */
#define TRIM_EVERY 10   /* seconds between malloc_trim() calls */

static void sweep_cb(lws_sorted_usec_list_t *sul)
{
	wsp_server *srv = lws_container_of(sul, wsp_server, sweep_sul);
	long long now = wsp__now_ms() / 1000;
	int closed = 0, tclosed = 0;

	if (srv->stopping)
		return;
	for (int i = 0; i < srv->nns; i++) {
		/* A connection token's user is closed at exp on every namespace
		 * (WSP_CLOSE_TOKEN_EXPIRED: the client fetches a fresh token and
		 * reconnects at once); a session's only where auth is required. */
		if (!srv->nss[i]->opts.require_auth && !srv->token_key)
			continue;
		for (wsp_client *c = srv->nss[i]->clients; c; c = c->next)
			if (c->user && c->user->exp <= now && !c->closing) {
				if (c->user->token) {
					wsp_client_close(c, WSP_CLOSE_TOKEN_EXPIRED, "token expired");
					tclosed++;
				} else if (srv->nss[i]->opts.require_auth) {
					wsp_client_close(c, 4401, "session expired");
					closed++;
				}
			}
	}
	if (closed)
		wsp_info(NULL, "closed %d socket%s with 4401: session expired", closed, closed == 1 ? "" : "s");
	if (tclosed)
		wsp_info(NULL, "closed %d socket%s with %d: token expired", tclosed, tclosed == 1 ? "" : "s",
			 WSP_CLOSE_TOKEN_EXPIRED);
	/* A backlog (a burst of broadcasts, slow readers) fills send queues
	 * with messages; once they are sent the memory is free but glibc keeps
	 * it in the heap, so RSS stays at the burst's high-water mark.  Every
	 * TRIM_EVERY seconds give free pages back (malloc_trim walks the free
	 * lists and madvises whole free pages: well under a millisecond for
	 * the daemon's heap). */
	if (++srv->sweeps % TRIM_EVERY == 0)
		malloc_trim(0);
	lws_sul_schedule(srv->ctx, 0, &srv->sweep_sul, sweep_cb, LWS_US_PER_SEC);
}

/* Pruning: every minute (or every history_retention / 5 seconds when that
 * is shorter) drop outbox rows older than history_retention.  With many
 * daemons on one database only one prunes at a time: the DELETE runs only
 * in the transaction that wins a transaction-scoped advisory lock, the
 * others skip at once instead of queueing on the same row locks.  At most
 * GC_BATCH rows per run (oldest first, through the created_at index), so a
 * backlog is worked off in short transactions. */
#define GC_LOCK_KEY "7735940411"   /* an arbitrary constant: "wspulse outbox gc" */
#define GC_BATCH "20000"

static long gc_interval(const wsp_server *srv)
{
	long r = srv->cfg->history_retention / 5;   /* rows live at most 20 % past retention */

	return r < 1 ? 1 : r < 60 ? r : 60;
}

static void gc_cb(lws_sorted_usec_list_t *sul)
{
	wsp_server *srv = lws_container_of(sul, wsp_server, gc_sul);
	char keep[32];
	const char *p[1] = { keep };

	if (srv->stopping)
		return;
	snprintf(keep, sizeof(keep), "%ld", srv->cfg->history_retention);
	/* The highest public id pruned per namespace goes to wsp_outbox_gone,
	 * for the history-gap notice of a too-old ?since= (history.c). */
	wsp_bus_query(srv->bus, "WITH l AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(" GC_LOCK_KEY ") AS ok), "
				"d AS (DELETE FROM wsp_outbox WHERE id IN (SELECT o.id FROM wsp_outbox o, l WHERE l.ok AND "
				"o.created_at < now() - make_interval(secs => $1::int) ORDER BY o.created_at LIMIT " GC_BATCH ") "
				"RETURNING namespace, id, client_id) "
				"INSERT INTO wsp_outbox_gone (namespace, upto) SELECT namespace, max(id) FROM d "
				"WHERE client_id IS NULL OR client_id LIKE '" WSP_TO_USER "%' GROUP BY namespace "
				"ON CONFLICT (namespace) DO UPDATE SET upto = greatest(wsp_outbox_gone.upto, EXCLUDED.upto)",
		      1, p, ignore, NULL);
	lws_sul_schedule(srv->ctx, 0, &srv->gc_sul, gc_cb, (lws_usec_t)gc_interval(srv) * LWS_US_PER_SEC);
}

/* The supervisor's reader is listening (again): notifications from before
 * may be missing, so replay from the floor and reload the revocations, as
 * after a reconnect of our own.  Nothing to do while our own connection is
 * down or its first replay is still to come: bus_up does both. */
static void reader_up(void *arg)
{
	wsp_server *srv = arg;

	if (!wsp_bus_up(srv->bus) || !srv->floor_known)
		return;
	load_revoked(srv);
	if (srv->outbox_replaying) {
		srv->replay_again = true;
	} else {
		srv->reader_replay = true;
		replay(srv, srv->seen.floor);
	}
}

int wsp__relay_start(wsp_server *srv)
{
	static const wsp_bus_hooks hooks = { bus_up, bus_down, bus_notify };
	static const wsp_reader_hooks rhooks = { reader_up, bus_notify };
	static const char *const none[] = { NULL };
	int rfd = wsp_worker_reader_fd();

	/* A worker with the supervisor's reader (reader.h) LISTENs to nothing
	 * itself: PostgreSQL then wakes one backend per commit, not one per
	 * worker. */
	srv->shared_reader = rfd >= 0 && wsp_reader_worker_start(srv->vh, rfd, &rhooks, srv) == 0;
	if (rfd >= 0 && !srv->shared_reader)
		wsp_warn("bus", "cannot adopt the shared reader's socket: listening on our own connection");
	srv->bus_down_since_ms = wsp__mono_ms();   /* until bus_up */
	srv->bus = wsp_bus_new(srv->ctx, srv->vh, srv->cfg->database,
			       srv->shared_reader ? none : wsp__relay_channels, &hooks, srv);
	if (!srv->bus)
		return WSP_ERR_NOMEM;
	lws_sul_schedule(srv->ctx, 0, &srv->stats_sul, stats_cb,
			 (lws_usec_t)srv->cfg->stats_interval * LWS_US_PER_SEC);
	lws_sul_schedule(srv->ctx, 0, &srv->sweep_sul, sweep_cb, LWS_US_PER_SEC);
	lws_sul_schedule(srv->ctx, 0, &srv->gc_sul, gc_cb, (lws_usec_t)gc_interval(srv) * LWS_US_PER_SEC);
	return wsp__presence_start(srv);
}

void wsp__relay_stop(wsp_server *srv)
{
	lws_sul_cancel(&srv->stats_sul);
	lws_sul_cancel(&srv->sweep_sul);
	lws_sul_cancel(&srv->gc_sul);
	lws_sul_cancel(&srv->flush_sul);
	wsp__presence_stop(srv);
	wsp_bus_free(srv->bus);
	srv->bus = NULL;
}
