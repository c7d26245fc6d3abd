/* history.c - ?since= catch-up of one client (see daemon.h).
 *
 * Order and duplicates: from the moment a client with ?since= connects to a
 * history namespace, live outbox messages for it (id >= 0) are HELD, not
 * sent.  The catch-up query returns every committed row of the namespace
 * with id > since that the client may see (client_id NULL or its own), in
 * id order, capped at CATCHUP_MAX.  Those go out first; then the held live
 * messages whose id was not among the rows.  So nothing is sent twice and,
 * apart from an out-of-order commit racing the query, everything arrives in
 * id order.  A lost connection during the query puts the client back to
 * pending: the query runs again when the bus is back and the daemon has
 * replayed its own outbox backlog (wsp__history_resume). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "daemon/bus.h"
#include "daemon/daemon.h"
#include "daemon/envelope.h"
#include "log.h"

#define CATCHUP_MAX 1000
#define WSP__STR2(x) #x
#define WSP__STR(x) WSP__STR2(x)

/* One held live message. */
struct wsp_held {
	struct wsp_held *next;
	wsp_msg *m;
	long long id;
};

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

void wsp__history_hold(wsp_client *c, wsp_msg *m, long long id)
{
	struct wsp_held *h;

	if (!c->wsi || c->closing)
		return;
	if (c->nheld >= (unsigned)c->srv->cfg->send_queue_max_messages ||
	    !(h = wsp_calloc(1, sizeof(*h)))) {
		c->ns->counters.dropped++;
		wsp__closing_warn(c, "too many messages while catching up, closing 1008");
		wsp_client_close(c, 1008, "send queue full");
		return;
	}
	h->m = wsp_msg_ref(m);
	h->id = id;
	if (c->held_tail)
		c->held_tail->next = h;
	else
		c->held = h;
	c->held_tail = h;
	c->nheld++;
}

bool wsp__history_sent(wsp_client *c, long long id)
{
	bool hit = bsearch(&id, c->cu_ids, (size_t)c->cu_n, sizeof(*c->cu_ids), cmp_ll) != NULL;

	/* Once this daemon's cursor has passed the newest caught-up id, no
	 * live message can repeat one of them any more. */
	if (c->srv->seen.floor >= c->cu_ids[c->cu_n - 1]) {
		wsp_free(c->cu_ids);
		c->cu_ids = NULL;
		c->cu_n = 0;
	}
	return hit;
}

static void drop_held(wsp_client *c)
{
	struct wsp_held *h, *next;

	for (h = c->held; h; h = next) {
		next = h->next;
		wsp_msg_unref(h->m);
		wsp_free(h);
	}
	c->held = c->held_tail = NULL;
	c->nheld = 0;
}

void wsp__history_drop(wsp_client *c)
{
	drop_held(c);
	wsp_free(c->cu_ids);
	c->cu_ids = NULL;
	c->cu_n = 0;
}

static void since_done(void *arg, const wsp_bus_res *r, const char *error)
{
	wsp_client *c = arg;
	int n = wsp_bus_nrows(r);
	long long *ids = NULL;

	(void)error;
	if (!r) {
		/* The connection dropped: try again once it is back. */
		if (c->wsi && !c->closing)
			c->since_pending = true;
		wsp__client_unref(c);
		return;
	}
	if (c->wsi && !c->closing) {
		ids = n ? wsp_calloc((size_t)n, sizeof(*ids)) : NULL;
		for (int i = 0; i < n; i++) {
			long long id = atoll(wsp_bus_get(r, i, 0));
			const char *payload = wsp_bus_get(r, i, 1);
			json_t *data = wsp_envelope_from_payload(payload, strlen(payload), wsp_bus_get(r, i, 2));
			wsp_msg *m;

			if (ids)
				ids[i] = id;
			if (data && (m = wsp_envelope_success(data, id))) {
				wsp__client_push(c, m);
				wsp_msg_unref(m);
			}
			json_decref(data);
		}
		if (n)
			wsp_debug(c->ns->path, "client %s: caught up %d message%s after id %lld", c->id, n,
				  n == 1 ? "" : "s", c->since);
		if (n && !ids)
			n = 0;   /* out of memory: send every held one rather than lose any */
		for (struct wsp_held *h = c->held; h; h = h->next)
			if (!n || !bsearch(&h->id, ids, (size_t)n, sizeof(*ids), cmp_ll))
				wsp__client_push(c, h->m);
		/* The query can be ahead of this daemon's live stream (a row it
		 * has not fetched yet): remember what was sent so the live copy
		 * is skipped (wsp__history_sent). */
		wsp_free(c->cu_ids);
		c->cu_ids = n ? ids : NULL;
		c->cu_n = n;
		if (!n)
			wsp_free(ids);
	}
	drop_held(c);
	c->replaying = false;
	c->since = -1;
	wsp__client_unref(c);
}

static void start(wsp_client *c)
{
	char since[32];
	const char *p[3] = { c->ns->path, since, c->id };

	snprintf(since, sizeof(since), "%lld", c->since);
	c->since_pending = false;
	c->refs++;
	c->srv->metrics.replays_client++;
	/* ORDER BY id makes the ids array sorted for since_done's bsearch. */
	if (wsp_bus_query(c->srv->bus, "SELECT id, payload, username FROM wsp_outbox WHERE namespace = $1 "
				       "AND id > $2::bigint AND (client_id IS NULL OR client_id = $3) "
				       "ORDER BY id LIMIT " WSP__STR(CATCHUP_MAX), 3, p, since_done, c) < 0) {
		c->since_pending = true;
		c->refs--;
	}
}

void wsp__relay_client_since(wsp_client *c)
{
	c->replaying = true;
	if (!wsp_bus_up(c->srv->bus) || c->srv->outbox_replaying) {
		c->since_pending = true;
		return;
	}
	start(c);
}

void wsp__history_resume(wsp_server *srv)
{
	for (int i = 0; i < srv->nns; i++) {
		if (!srv->nss[i]->opts.history)
			continue;
		for (wsp_client *c = srv->nss[i]->clients; c; c = c->next)
			if (c->since_pending && c->wsi && !c->closing)
				start(c);
	}
}
