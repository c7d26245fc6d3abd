/* prune.c - see prune.h. */
#include "config.h"

#include <stdio.h>

#include "alloc.h"
#include "daemon/bus.h"
#include "daemon/prune.h"
#include "log.h"

#define GC_LOCK_KEY "7735940411"   /* an arbitrary constant: "wspulse outbox gc" */
#define GC_BATCH "20000"

/* One per daemon (srv->prune). */
struct wsp_prune {
	wsp_server *srv;
	lws_sorted_usec_list_t sul;
};

static long gc_interval(const wsp_server *srv)
{
	long r = srv->cfg->history_retention / 5;   /* rows live at most 20 % past retention */

	return r < 1 ? 1 : r < 60 ? r : 60;
}

static void gc_cb(lws_sorted_usec_list_t *sul)
{
	struct wsp_prune *P = lws_container_of(sul, struct wsp_prune, sul);
	wsp_server *srv = P->srv;
	char keep[32];
	const char *p[1] = { keep };

	if (srv->stopping)
		return;
	snprintf(keep, sizeof(keep), "%ld", srv->cfg->history_retention);
	if (wsp_bus_query(srv->bus, "WITH l AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(" GC_LOCK_KEY ") AS ok), "
				    "d AS (DELETE FROM wsp_outbox WHERE id IN (SELECT o.id FROM wsp_outbox o, l WHERE l.ok AND "
				    "o.created_at < now() - make_interval(secs => $1::int) ORDER BY o.created_at LIMIT " GC_BATCH ") "
				    "RETURNING namespace, id, client_id) "
				    "INSERT INTO wsp_outbox_gone (namespace, upto) SELECT namespace, max(id) FROM d "
				    "WHERE client_id IS NULL OR client_id LIKE '" WSP_TO_USER "%' GROUP BY namespace "
				    "ON CONFLICT (namespace) DO UPDATE SET upto = greatest(wsp_outbox_gone.upto, EXCLUDED.upto)",
			  1, p, NULL, NULL) < 0)
		wsp_debug("bus", "outbox pruning skipped: the database connection is down");
	lws_sul_schedule(srv->ctx, 0, &P->sul, gc_cb, (lws_usec_t)gc_interval(srv) * LWS_US_PER_SEC);
}

int wsp__prune_start(wsp_server *srv)
{
	struct wsp_prune *P = wsp_calloc(1, sizeof(*P));

	if (!P)
		return WSP_ERR_NOMEM;
	P->srv = srv;
	srv->prune = P;
	lws_sul_schedule(srv->ctx, 0, &P->sul, gc_cb, (lws_usec_t)gc_interval(srv) * LWS_US_PER_SEC);
	return 0;
}

void wsp__prune_stop(wsp_server *srv)
{
	if (!srv->prune)
		return;
	lws_sul_cancel(&srv->prune->sul);
	wsp_free(srv->prune);
	srv->prune = NULL;
}
