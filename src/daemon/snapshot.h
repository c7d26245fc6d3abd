/* snapshot.h - this worker's stats: getStats() in memory, the snapshot row
 * it writes every stats_interval (statsrow.h), and the cluster-wide sum of
 * every daemon's row read back after each write, which wsp_server_stats()
 * answers while it is fresh (else this worker alone).  Also
 * wsp_namespace_stats() of the module API.  Its state is its own
 * (srv->snapshot, opaque).  Calls go down only (client.h, bus.h). */
#ifndef WSP_SNAPSHOT_H
#define WSP_SNAPSHOT_H

#include <stdbool.h>

#include <jansson.h>

#include "daemon/server.h"

/* Start the stats_interval timer.  0 or WSP_ERR_NOMEM. */
int wsp__snapshot_start(wsp_server *srv);
/* Cancel the timer, free the last sum. */
void wsp__snapshot_stop(wsp_server *srv);
/* Write this worker's row and read the sum back now (also on (re)connect,
 * relay.c).  Nothing while the bus is down or the daemon stopping. */
void wsp__snapshot_tick(wsp_server *srv);
/* getStats() without "daemons", this process's own (NEW reference); with
 * `snapshot`, plus the internal keys of the wsp_daemon_stats row that
 * wsp_stats_merge needs (stats.h), else exactly the public shape. */
json_t *wsp__local_stats(wsp_server *srv, bool snapshot);

#endif
