/* relay.h - what crosses PostgreSQL for a broadcast, between this daemon
 * and the database:
 *
 *   wsp_outbox   NOTIFY on commit of an outbox row (REST broadcasts, large
 *                module broadcasts, every history-namespace message): the
 *                row itself when it fits, else '<id>' (outbox.h); ids are
 *                fetched in commit order, each row delivered once (cursor.h),
 *                and after a (re)connect every row above the floor is
 *                replayed in pages.
 *   wsp_bcast    module broadcasts that fit a NOTIFY: a JSON array of
 *                {"o":origin,"n":namespace,"c":recipient|null (server.h),
 *                 "u":username,"d":data}, batched per loop turn, no row.
 *
 * relay.c owns the bus's hooks and hands the other channels on: session
 * revocations to sessions.h, presence to presence.h; on (re)connect it also
 * has the revoked sessions, a stats snapshot (snapshot.h) and the presence
 * rows refreshed.  Deliveries go down to delivery.h; the waiting catch-ups
 * are resumed (history.h) once the daemon's own replay is done.  Its state
 * is its own (srv->relay, opaque). */
#ifndef WSP_RELAY_H
#define WSP_RELAY_H

#include <jansson.h>

#include "daemon/server.h"

/* The channels a daemon LISTENs to, NULL-terminated (static storage): on
 * its bus, or through the supervisor's shared reader (main.c passes them to
 * wsp_workers_run, supervisor.h, for reader.h). */
const char *const *wsp__relay_channels(void);

/* Create the bus (srv->bus) and start connecting.  0 or WSP_ERR_NOMEM. */
int wsp__relay_start(wsp_server *srv);
/* Cancel the relay's timer and free the bus and the relay (at exit). */
void wsp__relay_stop(wsp_server *srv);
/* Cross-daemon part of a module broadcast (data BORROWED; the local
 * delivery is the caller's): one wsp_bcast item, or an outbox row with this
 * daemon's origin when it does not fit a NOTIFY.  Nothing is sent while the
 * bus is down; one that cannot be queued is logged as lost. */
void wsp__relay_broadcast(wsp_namespace *ns, json_t *data, const char *username,
			  const char *client_id);
/* A history namespace's message (data STOLEN): insert the outbox row and
 * deliver locally once its id is known (at once, without an id, while the
 * bus is down or the insert cannot be queued).  0 or WSP_ERR_NOMEM. */
int wsp__relay_history(wsp_namespace *ns, json_t *data, const char *username,
		       const char *client_id);

#endif
