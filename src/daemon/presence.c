/* presence.c - cluster-wide presence: how many sockets a namespace has on
 * every daemon and worker sharing the database, and the distinct usernames
 * of its logged-in ones.  The contract (table, timing, SQL) is
 * src/presence.h; this file is the daemon's side of it:
 *
 *  - a local join or leave marks its namespace dirty; the dirty rows are
 *    written together at most every WSP_PRESENCE_FLUSH_MS, with one NOTIFY;
 *  - every WSP_PRESENCE_BEAT_MS the rows are touched and the other workers'
 *    live sums re-read (which is how a crashed worker's sockets leave the
 *    count); a NOTIFY from another worker triggers a re-read too, coalesced:
 *    one query in flight at a time, one more after it if anything came in;
 *  - the count a module sees is the other workers' sum (as last read) plus
 *    this worker's own sockets (exact, at once).
 *
 * Everything runs on the loop thread; queries go through the bus (never
 * blocking).  While the database is unreachable the last sums are kept.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "daemon/bus.h"
#include "daemon/client.h"
#include "daemon/presence.h"
#include "daemon/strmap.h"
#include "json.h"
#include "log.h"
#include "../presence.h"   /* the contract (src/presence.h), not daemon/presence.h */

/* One per namespace, made on first use. */
struct wsp_ns_presence {
	long remote;                 /* the other live workers' sockets */
	json_t *users;               /* their distinct usernames (sorted array), NULL: none */
	long told;                   /* the count last announced (on_presence or a join/leave) */
	bool dirty;                  /* this worker's row needs writing */
	bool settle;                 /* announce once more at the next beat */
	void (*fn)(wsp_namespace *, long, void *);
	void *ud;
};

/* One per server. */
struct wsp_presence {
	wsp_server *srv;
	lws_sorted_usec_list_t flush_sul, beat_sul, read_sul;
	bool flush_pending, read_pending, reading, read_again, read_is_beat;
	unsigned beats;
};

#define GC_EVERY 60   /* beats between deletions of long-dead rows */

static struct wsp_ns_presence *nsp(wsp_namespace *ns)
{
	if (!ns->presence)
		ns->presence = wsp_calloc(1, sizeof(*ns->presence));
	return ns->presence;
}

static struct wsp_presence *srvp(wsp_server *srv)
{
	if (!srv->presence) {
		srv->presence = wsp_calloc(1, sizeof(*srv->presence));
		if (srv->presence)
			srv->presence->srv = srv;
	}
	return srv->presence;
}

long wsp_namespace_presence_count(const wsp_namespace *ns)
{
	return (ns->presence ? ns->presence->remote : 0) + ns->nclients;
}

/* This worker's distinct logged-in usernames in ns, at most `max`, each
 * appended to arr once (seen: names already in arr).  0 or WSP_ERR_NOMEM. */
static int local_users(const wsp_namespace *ns, json_t *arr, wsp_strmap *seen, size_t max)
{
	for (const wsp_client *c = ns->clients; c; c = c->next) {
		const char *u = c->user ? c->user->name : NULL;

		if (!u || !*u || wsp_strmap_get(seen, u))
			continue;
		if (json_array_size(arr) >= max)
			break;
		if (wsp_strmap_set(seen, u, 1) < 0 || json_array_append_new(arr, json_string(u)) < 0)
			return WSP_ERR_NOMEM;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

json_t *wsp_namespace_presence_users(const wsp_namespace *ns)
{
	json_t *arr = json_array(), *v, *out;
	wsp_strmap seen;
	size_t i, n;
	json_t **tmp;

	if (!arr)
		return NULL;
	wsp_strmap_init(&seen);
	if (ns->presence && ns->presence->users)
		json_array_foreach(ns->presence->users, i, v) {
			const char *u = json_string_value(v);

			if (u && !wsp_strmap_get(&seen, u) &&
			    (wsp_strmap_set(&seen, u, 1) < 0 || json_array_append(arr, v) < 0))
				goto fail;
		}
	if (local_users(ns, arr, &seen, (size_t)-1) < 0)
		goto fail;
	wsp_strmap_cleanup(&seen);
	n = json_array_size(arr);
	tmp = wsp_malloc(sizeof(*tmp) * (n ? n : 1));
	out = json_array();
	if (!tmp || !out) {
		wsp_free(tmp);
		json_decref(out);
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < n; i++)
		tmp[i] = json_array_get(arr, i);
	qsort(tmp, n, sizeof(*tmp), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append(out, tmp[i]);
	wsp_free(tmp);
	json_decref(arr);
	return out;
fail:
	wsp_strmap_cleanup(&seen);
	json_decref(arr);
	return NULL;
}

int wsp_namespace_on_presence(wsp_namespace *ns, void (*fn)(wsp_namespace *, long, void *), void *ud)
{
	struct wsp_ns_presence *p;

	if (!ns)
		return WSP_ERR_INVALID;
	p = nsp(ns);
	if (!p)
		return WSP_ERR_NOMEM;
	p->fn = fn;
	p->ud = ud;
	p->told = wsp_namespace_presence_count(ns);
	return 0;
}

static void schedule_flush(wsp_server *srv);

/* Write every dirty namespace's row in one statement (and NOTIFY). */
static void flush_cb(lws_sorted_usec_list_t *sul)
{
	struct wsp_presence *P = lws_container_of(sul, struct wsp_presence, flush_sul);
	wsp_server *srv = P->srv;
	json_t *rows = json_object();
	char *text;
	bool any = false;

	P->flush_pending = false;
	if (!rows || !wsp_bus_up(srv->bus)) {
		json_decref(rows);
		return;   /* bus_up rewrites everything */
	}
	for (int i = 0; i < srv->nns; i++) {
		wsp_namespace *ns = srv->nss[i];
		struct wsp_ns_presence *p = ns->presence;
		json_t *users = json_array();
		wsp_strmap seen;

		if (!p || !p->dirty) {
			json_decref(users);
			continue;
		}
		wsp_strmap_init(&seen);
		if (!users || local_users(ns, users, &seen, WSP_PRESENCE_NAMES_MAX) < 0) {
			json_decref(users);
			users = NULL;
		}
		/* json_pack's "o" takes users even when it fails. */
		if (!users || json_object_set_new(rows, ns->path, json_pack("{s:i, s:o}", "c", ns->nclients,
									  "u", users)) < 0) {
			wsp_strmap_cleanup(&seen);
			json_decref(rows);
			schedule_flush(srv);   /* out of memory: stays dirty, tried again in 100 ms */
			return;
		}
		wsp_strmap_cleanup(&seen);
		p->dirty = false;
		any = true;
	}
	text = any ? wsp_json_dump(rows, NULL) : NULL;
	json_decref(rows);
	if (text) {
		const char *params[2] = { srv->id, text };

		wsp_bus_query(srv->bus, WSP_PRESENCE_SQL_WRITE, 2, params, NULL, NULL);
		wsp_free(text);
	}
}

static void schedule_flush(wsp_server *srv)
{
	struct wsp_presence *P = srvp(srv);

	if (!P || P->flush_pending || !srv->ctx)
		return;
	P->flush_pending = true;
	lws_sul_schedule(srv->ctx, 0, &P->flush_sul, flush_cb, (lws_usec_t)WSP_PRESENCE_FLUSH_MS * 1000);
}

void wsp__presence_changed(wsp_namespace *ns)
{
	struct wsp_ns_presence *p = nsp(ns);

	if (!p)
		return;
	p->dirty = true;
	p->told = wsp_namespace_presence_count(ns);
	p->settle = true;
	if (!ns->srv->stopping)
		schedule_flush(ns->srv);
}

static void start_read(struct wsp_presence *P, bool beat);

static void read_done(void *arg, const wsp_bus_res *r, const char *error)
{
	struct wsp_presence *P = arg;
	wsp_server *srv = P->srv;
	bool beat = P->read_is_beat;
	int n;

	P->reading = false;
	if (!r) {
		if (error && *error)
			wsp_debug(NULL, "presence read failed: %s", error);
		return;
	}
	n = wsp_bus_nrows(r);
	for (int i = 0; i < srv->nns; i++) {
		wsp_namespace *ns = srv->nss[i];
		struct wsp_ns_presence *p = nsp(ns);
		long remote = 0, count;
		json_t *users = NULL;
		bool changed;

		if (!p)
			continue;
		for (int row = 0; row < n; row++)
			if (strcmp(wsp_bus_get(r, row, 0), ns->path) == 0) {
				remote = atol(wsp_bus_get(r, row, 1));
				users = json_loads(wsp_bus_get(r, row, 3), 0, NULL);
				break;
			}
		json_decref(p->users);
		p->users = json_is_array(users) ? users : NULL;
		if (!p->users)
			json_decref(users);
		p->remote = remote < 0 ? 0 : remote;
		count = wsp_namespace_presence_count(ns);
		changed = count != p->told;
		if (p->fn && (changed || (beat && p->settle)))
			p->fn(ns, count, p->ud);
		p->told = count;
		if (changed)
			p->settle = true;
		else if (beat)
			p->settle = false;
	}
	if (P->read_again) {
		P->read_again = false;
		start_read(P, false);
	}
}

static void start_read(struct wsp_presence *P, bool beat)
{
	wsp_server *srv = P->srv;
	const char *params[2] = { srv->id, "" };

	if (P->reading) {
		P->read_again = true;
		return;
	}
	P->read_is_beat = beat;
	if (wsp_bus_query(srv->bus, WSP_PRESENCE_SQL_READ, 2, params, read_done, P) == 0)
		P->reading = true;
}

static void read_cb(lws_sorted_usec_list_t *sul)
{
	struct wsp_presence *P = lws_container_of(sul, struct wsp_presence, read_sul);

	P->read_pending = false;
	start_read(P, false);
}

void wsp__presence_notify(wsp_server *srv, const char *payload)
{
	struct wsp_presence *P = srvp(srv);

	if (!P || !payload || strcmp(payload, srv->id) == 0 || P->read_pending || srv->stopping)
		return;
	/* A burst of notifications (a connect storm on other workers) costs
	 * one read per WSP_PRESENCE_FLUSH_MS / 5, not one per notification. */
	P->read_pending = true;
	lws_sul_schedule(srv->ctx, 0, &P->read_sul, read_cb, (lws_usec_t)WSP_PRESENCE_FLUSH_MS * 200);
}

static void beat_cb(lws_sorted_usec_list_t *sul)
{
	struct wsp_presence *P = lws_container_of(sul, struct wsp_presence, beat_sul);
	wsp_server *srv = P->srv;
	const char *params[1] = { srv->id };

	if (srv->stopping)
		return;
	if (wsp_bus_up(srv->bus)) {
		wsp_bus_query(srv->bus, WSP_PRESENCE_SQL_BEAT, 1, params, NULL, NULL);
		if (++P->beats % GC_EVERY == 0)
			wsp_bus_query(srv->bus, WSP_PRESENCE_SQL_GC, 0, NULL, NULL, NULL);
		start_read(P, true);
	}
	lws_sul_schedule(srv->ctx, 0, &P->beat_sul, beat_cb, (lws_usec_t)WSP_PRESENCE_BEAT_MS * 1000);
}

void wsp__presence_bus_up(wsp_server *srv)
{
	for (int i = 0; i < srv->nns; i++) {
		struct wsp_ns_presence *p = nsp(srv->nss[i]);

		if (p)
			p->dirty = true;
	}
	schedule_flush(srv);
}

void wsp__presence_bus_down(wsp_server *srv)
{
	if (srv->presence)
		srv->presence->reading = false;   /* its callback got NULL */
}

int wsp__presence_start(wsp_server *srv)
{
	struct wsp_presence *P = srvp(srv);

	if (!P)
		return WSP_ERR_NOMEM;
	lws_sul_schedule(srv->ctx, 0, &P->beat_sul, beat_cb, (lws_usec_t)WSP_PRESENCE_BEAT_MS * 1000);
	return 0;
}

void wsp__presence_stop(wsp_server *srv)
{
	struct wsp_presence *P = srv->presence;

	if (!P)
		return;
	lws_sul_cancel(&P->beat_sul);
	lws_sul_cancel(&P->flush_sul);
	lws_sul_cancel(&P->read_sul);
	P->flush_pending = P->read_pending = false;
}

void wsp__presence_free(wsp_server *srv)
{
	for (int i = 0; i < srv->nns; i++) {
		struct wsp_ns_presence *p = srv->nss[i]->presence;

		if (p)
			json_decref(p->users);
		wsp_free(p);
		srv->nss[i]->presence = NULL;
	}
	wsp_free(srv->presence);
	srv->presence = NULL;
}
