/* conn.h - the one record of an accepted connection, from its adoption
 * (accept.c hands it to proto.c) until lws destroys it: its handshake
 * deadline and a module's refusal while it is being upgraded, its frame
 * pre-check (rxhook.c), and its client once it is a WebSocket (client.h).
 *
 * It is lws's opaque user data of the wsi, which (unlike the protocol's
 * per-session data) survives the HTTP -> WebSocket bind, and rxhook.c's
 * table entry for its descriptor.  proto.c moves it through the stages;
 * conn.c only creates, finds and frees it.  Loop thread only. */
#ifndef WSP_CONN_H
#define WSP_CONN_H

#include <stdbool.h>

#include <libwebsockets.h>

#include "wspulse/wspulse.h"

#include "daemon/frameguard.h"
#include "daemon/timeq.h"

/* One per accepted connection. */
typedef struct wsp_conn {
	unsigned magic;
	struct lws *wsi;
	int fd;                      /* its descriptor, -1 when lws gave none */
	/* While it is being upgraded (accepted, no answer and no upgrade yet). */
	bool handshaking;
	wsp_tq_node hs_node;         /* its deadline in srv->hsq */
	int close_code;              /* a module's 4000-4999 refusal, applied at ESTABLISHED */
	char *close_reason;          /* its text (allocated), NULL */
	/* The frame pre-check (rxhook.h), while `guarded`. */
	bool guarded;
	wsp_frameguard g;
	/* From ESTABLISHED until CLOSED. */
	wsp_client *c;
	/* Counted in srv->per_peer under its socket peer (proto.c). */
	bool counted;
	char peer[46];
} wsp_conn;

/* A record for wsi, made its opaque user data (nothing else set); NULL
 * when out of memory. */
wsp_conn *wsp__conn_new(struct lws *wsi);
/* wsi's record, or NULL (none made, or already freed). */
wsp_conn *wsp__conn_of(struct lws *wsi);
/* Free the record and clear wsi's opaque user data (the caller has taken
 * it out of every queue and table first).  NULL-safe. */
void wsp__conn_free(wsp_conn *cn);

#endif
