/* handshake.h - an upgrade request's decision, from lws: the request's
 * headers collected into a plain struct and decided by hsrules.h (the
 * pure rules), at LWS_CALLBACK_HTTP_CONFIRM_UPGRADE and again at
 * ESTABLISHED (proto.c); then, once, a namespace's on_upgrade (module API
 * version 2) with the request's headers, cookies and query (the
 * wsp_upgrade_* functions of wspulse.h). */
#ifndef WSP_HANDSHAKE_H
#define WSP_HANDSHAKE_H

#include <stdbool.h>

#include "daemon/hsrules.h"
#include "daemon/server.h"

/* Decide wsi's request (hsrules.h); hs is filled (status 0: accepted, with
 * hs->id the ?uuid= or a fresh v4 id). */
void wsp__handshake(wsp_server *srv, struct lws *wsi, wsp_handshake *hs);
/* After wsp__handshake accepted: the namespace's on_upgrade (wspulse.h), once
 * per upgrade (at LWS_CALLBACK_HTTP_CONFIRM_UPGRADE).  A refusal sets
 * hs->status (400-499) or hs->close_code (4000-4999), hs->why and hs->detail. */
void wsp__handshake_module(wsp_server *srv, struct lws *wsi, wsp_handshake *hs);

#endif
