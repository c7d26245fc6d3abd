/* proto.h - the lws side of wspulsed: the context and its event loop, and
 * the one protocol callback ("wspulse"), a thin switch that follows a
 * connection's life: accepted (a handshake deadline, the frame pre-check,
 * rxhook.h) -> upgrade request (the handshake decision, handshake.h;
 * refusals are real HTTP statuses) -> ESTABLISHED (client.h, presence,
 * the ?since= catch-up) -> frames in / writable (client.h, history.h) ->
 * closed.  The top of the net side: it calls down only. */
#ifndef WSP_PROTO_H
#define WSP_PROTO_H

#include "daemon/server.h"

/* Create the lws context and vhost on the configured event loop and start
 * accepting (accept.h).  on_wake(srv) is called from the loop whenever
 * lws_cancel_service() woke it (the signal handlers do).  0 or a negative
 * WSP_ERR_* with err set. */
int wsp__lws_start(wsp_server *srv, void (*on_wake)(wsp_server *srv), wsp_error *err);
/* Run the loop until wsp__lws_break(); returns when the daemon should exit. */
void wsp__lws_run(wsp_server *srv);
/* Sets exit_loop and makes wsp__lws_run() return (loop thread only). */
void wsp__lws_break(wsp_server *srv);
/* Destroy the context (and our libev loop); NULL-safe, idempotent. */
void wsp__lws_destroy(wsp_server *srv);

#endif
