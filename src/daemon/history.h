/* history.h - the catch-up of one client from the outbox (?since=, or a
 * burst larger than its queue), paged and paced by its send queue (the
 * whole story is at the top of history.c).
 *
 * At connect (proto.c), a history-namespace client with since >= 0 starts
 * its catch-up (wsp__history_start): pages of the rows it missed, each
 * sized to the free half of its send queue, the next one queried only once
 * the queue has drained to a quarter (wsp__history_drained, after each
 * write).  Live outbox messages for the client meanwhile are offered to
 * wsp__history_live by the fan-out (delivery.c).  A query waits for the bus
 * and for the daemon's own outbox replay (wsp__history_resume, relay.c).
 * A client of any namespace that the fan-out would give more outbox rows
 * at once than its queue holds, while it reads, gets the same catch-up from
 * the row that did not fit (wsp__history_overflow, delivery.c) -- read from
 * the namespace's backlog in memory while it has room (backlog.h).
 *
 * The catch-up's state is history.c's alone (the client holds an opaque
 * pointer to it).  Calls go down only: bus.h, cursor.h, client.h. */
#ifndef WSP_HISTORY_H
#define WSP_HISTORY_H

#include <stdbool.h>

#include "daemon/client.h"

/* Start c's catch-up when its namespace keeps history and it asked for
 * ?since=; otherwise nothing.  Out of memory closes c 1011. */
void wsp__history_start(wsp_client *c);
/* A live outbox message `id` for c (addressed: sent to its clientId only,
 * so never in a page).  true: history.c took care of it (held back, sent
 * without the daemon's floor, or dropped as one the catch-up sends or sent);
 * false: c has no catch-up (or it is over and had not sent this id): send
 * it as usual. */
bool wsp__history_live(wsp_client *c, wsp_msg *m, long long id, bool addressed);
/* Outbox message `id` for c would pass a bound of its queue while its
 * socket takes bytes (wsp__client_burst): start a catch-up from the row
 * before it (top of history.c), so this message and the rest of the burst
 * come from the namespace's backlog, or in pages, at the socket's pace
 * instead of closing c 1008.  true: the
 * catch-up runs and the caller does not push the message (a page sends
 * it); false: a catch-up already paces c, or the daemon's floor is not
 * known, or out of memory -- the caller pushes it as before. */
bool wsp__history_overflow(wsp_client *c, long long id);
/* Whether c reads outbox rows from its namespace's backlog (backlog.h):
 * a burst left it behind and it catches up from memory.  The fan-out skips
 * it for outbox rows (non-outbox messages are pushed as usual). */
bool wsp__history_lagging(const wsp_client *c);
/* Outbox row `id` (m BORROWED, `to` its recipient or NULL) went out to ns's
 * clients: kept in ns's backlog for the clients that lag (in the order the
 * fan-out made the deliveries).  A backlog past its bounds sends the
 * clients furthest behind to outbox pages. */
void wsp__history_keep(wsp_namespace *ns, wsp_msg *m, const char *to, long long id);
/* c's send queue shrank: query the next page if it waits for that, or
 * read on in the backlog. */
void wsp__history_drained(wsp_client *c);
/* c's socket closed: forget its catch-up (answers still in flight are
 * ignored). */
void wsp__history_drop(wsp_client *c);
/* The bus is up and the daemon's replay done: start the pages that waited
 * (any namespace: a burst catch-up runs in namespaces without history). */
void wsp__history_resume(wsp_server *srv);
/* Cancel the retry of failed page queries (the stop sequence). */
void wsp__history_stop(wsp_server *srv);

#endif
