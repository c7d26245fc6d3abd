/* snapshot.c - see snapshot.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc.h"
#include "daemon/bus.h"
#include "daemon/client.h"
#include "daemon/clock.h"
#include "daemon/snapshot.h"
#include "daemon/supervisor.h"
#include "json.h"
#include "log.h"
#include "statsrow.h"

/* One per daemon (srv->snapshot). */
struct wsp_snapshot {
	wsp_server *srv;
	json_t *cluster;             /* last summed stats, NULL if none */
	long long cluster_ms;        /* when it was read (wall clock) */
	lws_sorted_usec_list_t sul;
	wsp_log_limit rl;
};

static json_t *ns_json(wsp_namespace *ns, long long now, bool snapshot)
{
	wsp_strmap users;
	long active;

	wsp_strmap_init(&users);
	for (wsp_client *c = ns->clients; c; c = c->next)
		if (c->user)
			wsp_strmap_set(&users, c->user->name, 1);
	active = (long)wsp_strmap_count(&users);
	wsp_strmap_cleanup(&users);
	return (snapshot ? wsp_stats_ns_snapshot_json : wsp_stats_ns_json)(ns->path, ns->nclients, active,
									&ns->counters, now);
}

json_t *wsp_namespace_stats(wsp_namespace *ns)
{
	return ns ? ns_json(ns, wsp__now_ms() / 1000, false) : NULL;
}

json_t *wsp__local_stats(wsp_server *srv, bool snapshot)
{
	long long now = wsp__now_ms(), qbytes = 0, bbytes = 0;
	json_t *nss = json_array(), *st;

	for (int i = 0; i < srv->nns; i++) {
		json_array_append_new(nss, ns_json(srv->nss[i], now / 1000, snapshot));
		bbytes += (long long)srv->nss[i]->backlog.bytes;
		for (wsp_client *c = srv->nss[i]->clients; snapshot && c; c = c->next)
			qbytes += (long long)c->q.bytes;
	}
	/* "workers": how many worker processes this row's daemon runs (the
	 * merge shows it per row; each worker writes its own row). */
	/* uptime in milliseconds, as jPulse's getStats() (its page formats ms). */
	st = json_pack("{s:I, s:I, s:o, s:o, s:i}", "uptime", (json_int_t)(now - srv->started_ms),
			 "totalMessages", (json_int_t)srv->total_messages, "namespaces", nss,
			 "activityLog", wsp_activity_json(&srv->activity, now, snapshot), "workers",
			 wsp_worker_total() > 0 ? wsp_worker_total() : 1);
	/* The operator's counters ride along in the row (GET /api/1/websocket/metrics). */
	if (st && snapshot)
		json_object_set_new(st, "metrics", wsp_metrics_json(&srv->metrics, qbytes, bbytes));
	return st;
}

json_t *wsp_server_stats(wsp_server *srv)
{
	long long now = wsp__now_ms();
	json_t *st;
	char iso[40];
	struct wsp_snapshot *S = srv->snapshot;

	if (S && S->cluster && now - S->cluster_ms < 2000LL * srv->cfg->stats_interval + 1000)
		return json_deep_copy(S->cluster);
	st = wsp__local_stats(srv, false);   /* this process alone: every message once */
	wsp_iso8601(now, iso, sizeof(iso));
	json_object_set_new(st, "daemons",
			    json_pack("[{s:s, s:s, s:i, s:i, s:I, s:b, s:s}]", "id", srv->id, "host",
				      srv->host, "pid", (int)getpid(), "workers",
				      wsp_worker_total() > 0 ? wsp_worker_total() : 1, "uptime",
				      json_integer_value(json_object_get(st, "uptime")), "up", 1,
				      "updatedAt", iso));
	return st;
}


static void ignore(void *arg, const wsp_bus_res *r, const char *error)
{
	(void)arg;
	(void)r;
	(void)error;
}

static void cluster_done(void *arg, const wsp_bus_res *r, const char *error)
{
	struct wsp_snapshot *S = arg;
	json_t *rows, *merged;

	(void)error;
	if (!r)
		return;
	rows = json_array();
	for (int i = 0; rows && i < wsp_bus_nrows(r); i++) {
		const char *col[WSP_STATSROW_NCOLS];

		for (int k = 0; k < WSP_STATSROW_NCOLS; k++)
			col[k] = wsp_bus_get(r, i, k);
		json_array_append_new(rows, wsp_statsrow_json(col));
	}
	merged = rows ? wsp_stats_merge(rows, wsp__now_ms() / 1000) : NULL;
	json_decref(rows);
	if (merged) {
		json_decref(S->cluster);
		S->cluster = merged;
		S->cluster_ms = wsp__now_ms();
	}
}

void wsp__snapshot_tick(wsp_server *srv)
{
	struct wsp_snapshot *S = srv->snapshot;
	json_t *st;
	char *text, pid[16], started[32], fresh[16];

	if (!S || !srv->bus || !wsp_bus_up(srv->bus) || srv->stopping)
		return;
	st = wsp__local_stats(srv, true);
	text = st ? wsp_json_dump(st, NULL) : NULL;
	json_decref(st);
	if (!text)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(started, sizeof(started), "%.3f", srv->started_ms / 1000.0);
	snprintf(fresh, sizeof(fresh), "%ld", 3 * srv->cfg->stats_interval);
	{
		const char *w[5] = { srv->id, srv->host, pid, started, text };
		const char *q[1] = { fresh };

		/* Both or neither: the bus is up, so a failure here means it has
		 * just gone; the next tick after `up` writes again. */
		if (wsp_bus_query(srv->bus, WSP_STATSROW_SQL_WRITE, 5, w, ignore, NULL) < 0 ||
		    wsp_bus_query(srv->bus, WSP_STATSROW_SQL_READ, 1, q, cluster_done, S) < 0)
			if (wsp_log_limit_ok(&S->rl, 1, WSP_LOG_DEBUG, "stats snapshots skipped"))
				wsp_debug("bus", "stats snapshot skipped: the connection went");
	}
	wsp_free(text);
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct wsp_snapshot *S = lws_container_of(sul, struct wsp_snapshot, sul);
	wsp_server *srv = S->srv;

	if (srv->stopping)
		return;
	wsp__snapshot_tick(srv);
	lws_sul_schedule(srv->ctx, 0, &S->sul, tick_cb, (lws_usec_t)srv->cfg->stats_interval * LWS_US_PER_SEC);
}

int wsp__snapshot_start(wsp_server *srv)
{
	struct wsp_snapshot *S = wsp_calloc(1, sizeof(*S));

	if (!S)
		return WSP_ERR_NOMEM;
	S->srv = srv;
	srv->snapshot = S;
	lws_sul_schedule(srv->ctx, 0, &S->sul, tick_cb, (lws_usec_t)srv->cfg->stats_interval * LWS_US_PER_SEC);
	return 0;
}

void wsp__snapshot_stop(wsp_server *srv)
{
	struct wsp_snapshot *S = srv->snapshot;

	if (!S)
		return;
	lws_sul_cancel(&S->sul);
	json_decref(S->cluster);
	wsp_free(S);
	srv->snapshot = NULL;
}
