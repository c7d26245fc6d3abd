/* pingpong.h - protocol pings: a PING every ping_interval seconds; no PONG
 * within pong_timeout: the socket is dropped and logged at warn - unless
 * bytes from the peer are waiting unread (FIONREAD): then the daemon, not
 * the peer, was late, and the deadline is extended.  One timer per client
 * (c->tq) in two constant-delay queues (timeq.h): srv->pingq (next ping
 * due), srv->pongq (pong due).  The PING itself is written by client.c's
 * write path (c->want_ping).  Calls go down only (client.h). */
#ifndef WSP_PINGPONG_H
#define WSP_PINGPONG_H

#include "daemon/client.h"

/* The two queues, once the lws context exists; stopped before it goes. */
void wsp__ping_init(wsp_server *srv);
void wsp__ping_stop(wsp_server *srv);
/* c connected: its first ping is due ping_interval from now. */
void wsp__ping_start(wsp_client *c);
/* A PONG arrived: the next ping is due ping_interval from now. */
void wsp__ping_pong(wsp_client *c);

#endif
