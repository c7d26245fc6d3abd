/* client.h - one connected WebSocket: its record, receive path and
 * limits, send queue, protocol pings, close.
 *
 * A client is created at LWS_CALLBACK_ESTABLISHED (proto.c) from the
 * handshake's decision and lives until lws reports the socket closed and
 * the last query about it (history.c) has answered (refs).  client.c calls
 * down only (server.h, timeq.h, cursor.h, the pure modules); what happens
 * around a client's life in other modules (presence, catch-up) is called
 * by proto.c, which sees the whole connection. */
#ifndef WSP_CLIENT_H
#define WSP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/hsrules.h"
#include "daemon/msgq.h"
#include "daemon/rate.h"
#include "daemon/reasm.h"
#include "daemon/server.h"
#include "daemon/timeq.h"
#include "daemon/uuid.h"

/* One per connected socket (created at LWS_CALLBACK_ESTABLISHED). */
struct wsp_client {
	wsp_server *srv;
	wsp_namespace *ns;
	struct lws *wsi;             /* NULL once the socket is closed */
	wsp_client *prev, *next;     /* in ns->clients */
	unsigned refs;               /* the socket + pending queries about it */
	char id[WSP_UUID_LEN + 1];
	wsp_user *user;              /* allocated; NULL: anonymous (no valid session) */
	char ip[64];
	wsp_msgq q;
	wsp_rate rate;
	wsp_reasm rx;                /* the message being reassembled (reasm.h) */
	void *data;                  /* module storage */
	bool closing;
	bool slot_released;          /* per-address count already given back */
	int close_code;
	char *close_reason;          /* allocated by wsp_client_close() */
	bool want_ping, awaiting_pong;
	/* Health timer: in srv->pingq (next ping due) or srv->pongq (pong
	 * due); pingpong.h moves it, client.c writes the PING. */
	wsp_tq_node tq;
	long long since;             /* ?since=, -1 if absent */
	struct wsp_catchup *cu;      /* history.c's, opaque; NULL: no catch-up */
	/* On srv->tx_list (holding a reference): its queue went from empty to
	 * non-empty this loop iteration and is written directly at the end of
	 * it, without a POLLOUT round trip (client.c, "the write path"). */
	bool tx_listed;
	wsp_client *tx_next;
};

/* Whether a ?since= catch-up (history.h) is pacing this client's queue:
 * its next page is queried once the queue drains (the writable callback),
 * so the write path leaves the queue to POLLOUT.  The one test of history's
 * pointer outside history.c, kept here because client.c may not include
 * history.h (history -> client already: that would be a cycle). */
static inline bool wsp__client_catching_up(const wsp_client *c)
{
	return c->cu != NULL;
}

/* Several queued messages leave as one write of at most this many bytes
 * (the frames built in srv->txbuf, wsframe.h). */
#define WSP_TX_BATCH_MAX 32768

/* Allocate the server's batch buffer (srv->txbuf), once; 0 or
 * WSP_ERR_NOMEM.  wsp__client_cleanup frees it. */
int wsp__client_init(wsp_server *srv);
void wsp__client_cleanup(wsp_server *srv);
/* Create the client of an accepted upgrade: link it into its namespace,
 * count it (server and address) and queue the
 * welcome (with the daemon's outbox floor for a fresh history client).
 * NULL when out of memory.  The namespace's on_connect is NOT called yet:
 * wsp__client_connected does that once the caller has done its part. */
wsp_client *wsp__client_open(wsp_server *srv, struct lws *wsi, const wsp_handshake *hs);
/* Call the namespace's on_connect. */
void wsp__client_connected(wsp_client *c);
/* Bytes of a message from the client (LWS_CALLBACK_RECEIVE): reassembled
 * up to max_message_bytes (beyond: answered 413, the socket stays); a
 * message over max_frame_bytes closes 1009 (returns -1).  A whole message
 * is parsed, rate-limited, stamped and given to on_message.  0 or -1
 * (close the socket). */
int wsp__client_rx(wsp_client *c, const char *in, size_t len, bool first, bool final,
		   size_t remaining);
/* LWS_CALLBACK_SERVER_WRITEABLE: a close frame, a ping, or queued
 * messages (several in one write when they fit).  0, or -1 to close. */
int wsp__client_writable(wsp_client *c);
/* lws reported the socket closed: unlink c from its namespace, give back
 * its counts, release its queue; c->wsi is NULL from here on.  Then the
 * caller does its part and calls wsp__client_gone. */
void wsp__client_unlink(wsp_client *c);
/* After wsp__client_unlink: on_disconnect, and the socket's reference goes
 * (c may be freed). */
void wsp__client_gone(wsp_client *c);
/* Drop c's socket without lws's close handshake (lws writes no close frame
 * and waits for none; rxhook.c writes its own beforehand), when no pong
 * came in time or a frame fails the pre-check.  c no longer counts against
 * its address, is marked closing (nothing more is queued or written; what
 * was queued is released now), and lws closes the connection at its next
 * timeout check (LWS_TO_KILL_ASYNC), so this is safe from a timer and from
 * inside any lws callback, this socket's own included.  c stays valid until
 * lws reports the close (wsp__client_unlink).  The caller logs why.
 * Calling it again is harmless; once the socket is closed (c->wsi NULL) it
 * does nothing. */
void wsp__client_drop(wsp_client *c);
/* Queue m for c (a new reference); closes c with 1008 when a bound of its
 * queue would be passed (what was queued is dropped, counted in dropped),
 * and does nothing for a closing client.  Returns 0, WSP_ERR_LIMIT or
 * WSP_ERR_NOMEM.  A push to an empty queue whose socket had room the last
 * time (lws holds none of its output) lists c for wsp__client_flush()
 * instead of asking lws for POLLOUT: the frame leaves in this loop
 * iteration, and every message pushed to c before the end of it leaves in
 * the same write. */
int wsp__client_push(wsp_client *c, wsp_msg *m);
/* Whether pushing m would pass a bound of c's queue while c's socket takes
 * bytes (lws holds none of its output and the kernel has room): the daemon
 * handed c more at once than its queue holds (a burst of fetched rows),
 * not a peer that stopped reading.  false for a closing client. */
bool wsp__client_burst(const wsp_client *c, const wsp_msg *m);
/* The end of a loop iteration (proto.c calls it before the loop waits
 * again): write every listed client's queue directly, as one write, with
 * lws_write().  What the socket does not take, lws keeps and sends at
 * POLLOUT before anything else (it owns POLLOUT for it); the rest of the
 * queue then waits for SERVER_WRITEABLE as before.  Never blocks. */
void wsp__client_flush(wsp_server *srv);
/* lws is closing c's connection itself (the peer's close frame, a protocol
 * error, a callback that returned -1): nothing more is queued or written
 * (a direct write could otherwise follow lws's close frame); the queue is
 * released.  Harmless when c is already closing. */
void wsp__client_lws_closing(wsp_client *c);
/* Take / give back a reference (a query about c in flight holds one). */
void wsp__client_ref(wsp_client *c);
void wsp__client_unref(wsp_client *c);
/* true if c is (one of) the recipient(s) `to` (WSP_TO_USER, server.h). */
bool wsp__client_is(const wsp_client *c, const char *to);
/* Log at warn that the daemon closes c and why (at most 10 lines a
 * second, the rest counted). */
void wsp__closing_warn(wsp_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
