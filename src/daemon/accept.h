/* accept.h - the protocol that accepts on the listening socket
 * (listener.h), "wsp-accept".
 *
 * Every process accepts itself, never lws: it accept4()s up to `batch`
 * connections per wake-up, sets TCP_NODELAY and hands each to lws
 * (lws_adopt_socket_vhost), then calls `adopted`.  At the descriptor limit
 * it never spins: a connection whose descriptor lands in the last 64 below
 * RLIMIT_NOFILE is answered 503 and closed, and on EMFILE/ENFILE a spare
 * descriptor is freed to accept and refuse one the same way, and the
 * listening socket is not watched for 100 ms.  A worker (supervisor.h) at
 * that limit, or at its max_connections (wsp_worker_accept_capacity), while
 * another worker has room refuses nothing: it stops
 * watching the listening socket, so the others take the connections, and
 * looks again every 100 ms (room.h); the one connection it had already
 * accepted is served from the reserve's first half.  Only when every worker
 * is full are connections refused.  A worker holding clearly more
 * connections than another with room (wsp_worker_accept_load, room.h) stops
 * watching for 2 ms at a wake-up, so that the others take what arrives;
 * one still waiting after that it takes itself.  Every refusal is logged at warn (at most
 * 10 lines a second, the rest counted).  Loop thread only. */
#ifndef WSP_ACCEPT_H
#define WSP_ACCEPT_H

#include <stdbool.h>

#include <libwebsockets.h>

/* Connections taken per wake-up by a daemon without workers; a worker
 * takes one, so that workers woken together share new connections (a batch
 * let the first one awake take every pending connection). */
#define WSP_ACCEPT_BATCH 64

extern const struct lws_protocols wsp_accept_protocol;
/* Adopt the listening socket into the loop (after the vhost exists): take
 * up to `batch` connections per wake-up.  0, or WSP_ERR_IO; 0 without a
 * listening socket. */
int wsp_worker_accept_start(struct lws_vhost *vh, int batch,
			    void (*adopted)(struct lws *wsi, const char *key));
/* Room for the key an admit hook writes (an address, with NUL). */
#define WSP_ACCEPT_KEY_MAX 64
/* Ask `admit` about each accepted descriptor before lws adopts it: false
 * refuses it (503, closed, logged with `why`).  What it writes into `key`
 * (WSP_ACCEPT_KEY_MAX bytes, "" on entry) reaches `adopted` for the same
 * connection, so that what it looked up is not looked up twice.  NULL:
 * every one, key "". */
void wsp_worker_accept_admit(bool (*admit)(int fd, char *key), const char *why);
/* `at_capacity` says whether this process holds as many connections as it
 * may (max_connections): while it does and another worker has room, this
 * one takes none (room.h); the others take them.  NULL: no such limit. */
void wsp_worker_accept_capacity(bool (*at_capacity)(void));
/* `load` says how many connections this process holds, told to the other
 * workers at each wake-up (room.h).  NULL: none told, never crowded. */
void wsp_worker_accept_load(int (*load)(void));
/* Stop accepting (draining) and close the listening descriptor. */
void wsp_worker_accept_stop(void);

#endif
