/* shutdown.h - the daemon's SIGTERM / SIGUSR2 sequence and the signal
 * flags' handling in the loop.
 *
 * Stop accepting, close every socket (1001 "server shutting down", or 1012
 * "service restart" for a worker of a rolling restart), stop the module
 * timers, and leave the loop once every socket is gone or 1.5 s have
 * passed.  Calls go down only (client.h, accept.h, proto.h, reload.h). */
#ifndef WSP_SHUTDOWN_H
#define WSP_SHUTDOWN_H

#include "daemon/server.h"

/* Begin the sequence (idempotent). */
void wsp__shutdown_start(wsp_server *srv);
/* Act on the flags the signal handlers set (srv->sig_hup: re-read the
 * configuration, reload.h; srv->sig_term: wsp__shutdown_start).  Called
 * from the loop when a handler woke it (proto.h).  SIGTERM/SIGINT with
 * stop_notice set: the sockets are served for stop_notice seconds more
 * while /health answers 503 "stopping" and upgrades are refused with 503
 * (srv->notice_end_ms is set), so that a load balancer takes the daemon
 * out before its clients are told to reconnect; then wsp__shutdown_start.
 * A rolling restart (SIGUSR2) stops at once. */
void wsp__shutdown_signals(wsp_server *srv);

#endif
