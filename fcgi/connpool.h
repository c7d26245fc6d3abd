/* connpool.h - which FastCGI connection a worker thread serves next.
 *
 * libfcgi serves one connection per FCGX_Request, and FCGX_Accept_r reads a
 * kept connection's next request with a blocking read: a web server that
 * keeps its FastCGI connections open (nginx `fastcgi_keep_conn on` with
 * `keepalive` in the upstream, Apache mod_proxy_fcgi `enablereuse=on`) would
 * pin one worker thread per idle connection, and new connections would wait
 * in the backlog behind them.  This module takes the waiting away from the
 * threads: every worker waits in epoll_wait() on one shared epoll set that
 * holds the listening socket and every idle (parked) connection, each armed
 * EPOLLONESHOT, so each readable connection goes to exactly one thread, and
 * an idle connection costs a descriptor, never a thread.  Nothing is ever
 * closed from this side while the web server may reuse it (a kept connection
 * closed under nginx's feet turns the POST it was about to send into a 502):
 * a connection ends when the web server closes it, when it breaks the
 * protocol, or when the process stops.
 *
 * The flow, in each worker thread:
 *
 *     while ((fd = wsp_connpool_next(pool)) >= 0) {
 *         if (wsp_connpool_accept(pool, &rq, fd) < 0)
 *             continue;                       // ended; libfcgi closed it
 *         ... serve rq ...
 *         wsp_connpool_finish(pool, &rq);     // parks it, or it is closed
 *     }
 *
 * A new connection is served at once when its first bytes are already there
 * (the web server writes the request right after connecting), and parked
 * until they are otherwise, so a peer that connects and says nothing holds
 * no thread.  Connections are bounded by the descriptor limit: at the
 * limit the listening socket is left unarmed (the kernel's backlog holds the
 * rest) until a connection ends.  FCGI_WEB_SERVER_ADDRS is honoured as
 * libfcgi honours it (peers not in the list are closed at accept), and
 * more: it may list IPv6 addresses (an IPv4-mapped one, ::ffff:a.b.c.d,
 * is its IPv4 address), separated by commas or blanks, and an IPv6 or dual-stack socket's
 * peers are checked too (libfcgi lets every non-IPv4 peer in, so a
 * `spawn-fcgi -a ::` socket bypassed the list, IPv4 peers included).
 *
 * It uses two fields of FCGX_Request (ipcFd, keepConnection) that fcgiapp.h
 * exposes ("for API simplicity") but asks callers not to touch: handing a
 * connection to FCGX_Accept_r this way is the only means libfcgi 2.4 offers
 * of serving a connection it did not accept itself.  The request's
 * listen_sock is -1, so when libfcgi gives up on a connection (end of file,
 * a protocol error) its attempt to accept another fails at once instead of
 * blocking; tests/integration/fcgi-keepconn.test.mjs checks this behaviour
 * of the installed libfcgi.
 */
#ifndef WSP_CONNPOOL_H
#define WSP_CONNPOOL_H

#include <fcgiapp.h>

#include "error.h"

typedef struct wsp_connpool wsp_connpool;

/* A pool on the listening socket listen_fd (made non-blocking; accepted
 * connections are blocking, as libfcgi reads them) served by `threads`
 * worker threads (each keeps a descriptor for its database connection
 * back from the connections' share).  NULL with err set. */
wsp_connpool *wsp_connpool_new(int listen_fd, long threads, wsp_error *err);

/* Frees the pool and closes the connections it holds (not listen_fd).
 * Only after every worker has returned from it. */
void wsp_connpool_free(wsp_connpool *pool);

/* Prepares a worker's request (FCGX_InitRequest with no listening socket). */
void wsp_connpool_init_request(FCGX_Request *rq);

/* Blocks until a connection has a request to read and returns its
 * descriptor, owned by the caller until wsp_connpool_finish; -1 once
 * wsp_connpool_stop was called. */
int wsp_connpool_next(wsp_connpool *pool);

/* FCGX_Accept_r on fd.  0: rq holds a request.  -1: the connection ended
 * (closed by the peer, or a protocol error) and libfcgi closed it. */
int wsp_connpool_accept(wsp_connpool *pool, FCGX_Request *rq, int fd);

/* FCGX_Finish_r, then the connection goes back to the pool when the web
 * server asked to keep it (FCGI_KEEP_CONN) and nothing failed on it; libfcgi
 * closed it otherwise. */
void wsp_connpool_finish(wsp_connpool *pool, FCGX_Request *rq);

/* Wakes every thread waiting in wsp_connpool_next, which then returns -1;
 * async-signal-safe. */
void wsp_connpool_stop(wsp_connpool *pool);

/* Connections open now (served and parked). */
long wsp_connpool_open(wsp_connpool *pool);

#endif
