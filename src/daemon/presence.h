/* presence.h - cluster-wide presence of this worker (the contract with
 * the database and wspulse.fcgi is src/presence.h): its per-namespace rows
 * in wsp_presence (dirty rows written together at most every 100 ms, one
 * NOTIFY; a 1 s heartbeat), the other workers' sums read back (coalesced),
 * and the module API's counts and usernames.  Its state is its own
 * (srv->presence, ns->presence: opaque).  Calls go down only (client.h for
 * the local usernames, bus.h). */
#ifndef WSP_DAEMON_PRESENCE_H
#define WSP_DAEMON_PRESENCE_H

#include "daemon/server.h"

void wsp__presence_changed(wsp_namespace *ns);    /* a local socket joined or left ns */
void wsp__presence_notify(wsp_server *srv, const char *payload);   /* NOTIFY wsp_presence */
void wsp__presence_bus_up(wsp_server *srv);       /* (re)connected: rewrite every row */
void wsp__presence_bus_down(wsp_server *srv);
int wsp__presence_start(wsp_server *srv);         /* the heartbeat; 0 or WSP_ERR_NOMEM */
void wsp__presence_stop(wsp_server *srv);         /* cancel the timers */
void wsp__presence_free(wsp_server *srv);         /* before wsp__server_free */

#endif
