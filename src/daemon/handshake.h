/* handshake.h - the rules that decide an upgrade request
 * (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, again at ESTABLISHED; proto.c):
 * namespace -> 404; stopping -> 503; Origin -> 403; max_connections ->
 * 503; per-address cap -> 429; connection token / trusted front-server
 * headers / session cookie -> 401 (403 for a token's ns claim); roles ->
 * 403.  Then a namespace's on_upgrade (module API version 2). */
#ifndef WSP_HANDSHAKE_H
#define WSP_HANDSHAKE_H

#include <stdbool.h>

#include "daemon/server.h"
#include "daemon/uuid.h"

/* What the handshake rules decided for one upgrade request. */
typedef struct wsp_handshake {
	int status;                  /* 0 = accept, else the HTTP status */
	const char *why;             /* sent in the refusal */
	char detail[WSP_ERROR_TEXT_MAX]; /* logged instead of why when set (never sent) */
	char note[160];              /* logged (warn) once per upgrade even when accepted */
	int close_code;              /* a module's 4000-4999 refusal: open, then close with it */
	char reason[WSP_REASON_MAX + 1]; /* a module's refusal text (why points here) */
	wsp_namespace *ns;
	bool has_user;
	wsp_user user;
	char ip[64];
	char id[WSP_UUID_LEN + 1];
	long long since;
} wsp_handshake;


/* Run the rules on wsi's request; hs is filled (status 0: accepted). */
void wsp__handshake(wsp_server *srv, struct lws *wsi, wsp_handshake *hs);
/* After wsp__handshake accepted: the namespace's on_upgrade (wspulse.h), once
 * per upgrade (at LWS_CALLBACK_HTTP_CONFIRM_UPGRADE).  A refusal sets
 * hs->status (400-499) or hs->close_code (4000-4999), hs->why and hs->detail. */
void wsp__handshake_module(wsp_server *srv, struct lws *wsi, wsp_handshake *hs);

#endif
