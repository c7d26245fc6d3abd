/* delivery.h - the fan-out: one serialised message to this daemon's
 * sockets of one namespace.
 *
 * The last step of every broadcast (relay.c for outbox rows and other
 * daemons' module messages, api.c for this daemon's module messages): the
 * same wsp_msg (serialised once, ref-counted) is queued to each recipient.
 * For an outbox message each client is first offered to its catch-up
 * (history.h), which may hold, re-floor or skip it; one that would pass a
 * reading client's queue bound starts that client's catch-up instead of
 * closing it (wsp__history_overflow), and
 * while such a client reads from the namespace's backlog the fan-out skips
 * it and keeps the row there for it (wsp__history_keep).  Calls go down only:
 * history.h, client.h. */
#ifndef WSP_DELIVERY_H
#define WSP_DELIVERY_H

#include "daemon/msgq.h"
#include "daemon/server.h"

/* Queue m (BORROWED; each client takes its own reference) to ns's local
 * clients: `to` NULL = all, else a recipient (a clientId, or WSP_TO_USER +
 * a username: server.h).  `id` >= 0 marks an outbox message (catch-ups
 * and ?since= replays know it by that id); -1 for any other. */
void wsp__deliver(wsp_namespace *ns, wsp_msg *m, const char *to, long long id);

#endif
