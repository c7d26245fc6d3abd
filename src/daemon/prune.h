/* prune.h - outbox pruning: every minute (or every history_retention / 5
 * seconds when that is shorter) drop outbox rows older than
 * history_retention, recording per namespace the highest public id pruned
 * in wsp_outbox_gone (for history.c's history-gap notice).
 *
 * With many daemons on one database only one prunes at a time: the DELETE
 * runs only in the transaction that wins a transaction-scoped advisory
 * lock, the others skip at once instead of queueing on the same row locks.
 * At most 20000 rows per run (oldest first, through the created_at index),
 * so a backlog is worked off in short transactions.  Its state is its own
 * (srv->prune, opaque). */
#ifndef WSP_PRUNE_H
#define WSP_PRUNE_H

#include "daemon/server.h"

/* Start the timer.  0 or WSP_ERR_NOMEM. */
int wsp__prune_start(wsp_server *srv);
void wsp__prune_stop(wsp_server *srv);

#endif
