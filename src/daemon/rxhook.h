/* rxhook.h - the frame pre-check (frameguard.h) wired into the bytes
 * libwebsockets reads.
 *
 * lws 4.1.6 reads a plain (non-TLS) socket with recv(fd, buf, len, 0) in
 * lws_ssl_capable_read_no_ssl() (lib/core-net/output.c) and offers no hook
 * before its WebSocket parser.  wspulsed therefore defines recv() itself:
 * the dynamic linker binds lws's (and libpq's) calls to the executable's
 * definition, which reads with recvfrom() and, only for a descriptor
 * registered here, runs the bytes through that connection's wsp_frameguard
 * before lws sees them.  Every other descriptor (libpq, the accept socket)
 * costs one array bounds check.
 *
 * On a violation lws gets none of the bytes read, not even whole frames in
 * front of the bad one (a ping among them would be answered after our close
 * frame), and nothing later; the close frame (code and a short reason) is written
 * straight to the socket - lws's rx parser would otherwise drop the
 * connection or act on the frame - unless lws holds unsent output for it
 * (then the peer is not reading and a close frame cannot be placed), one
 * warn line is logged (wsp__closing_warn's rate limit) and the client is
 * dropped with wsp__client_drop(): marked closing (its queue released,
 * nothing more written), its per-address slot given back, and lws told to
 * close the socket at its next timer check (LWS_TO_KILL_ASYNC).  Later
 * reads are discarded.  Nothing blocks: the write is MSG_DONTWAIT, at most
 * 127 bytes, and a short write is given up.
 *
 * TLS connections (direct mode): the same guard on the decrypted bytes, from
 * an interposed SSL_read() (rxhook.c says how); the close frame then goes
 * out as one TLS record through the connection's SSL.
 *
 * All functions run on the loop thread (as every lws callback does).
 */
#ifndef WSP_RXHOOK_H
#define WSP_RXHOOK_H

#include "daemon/client.h"
#include "daemon/conn.h"

/* Connection cn (conn.h) was accepted and adopted by lws: guard it from its
 * first byte, which begins the HTTP request (so the guard knows where
 * frames start).  Failure to grow the table is logged once; the connection
 * is then simply not pre-checked.  A request whose head passes
 * WSP_REQUEST_HEAD_MAX bytes or WSP_REQUEST_FIELDS_MAX header lines and
 * query parameters (frameguard.h) is answered "431 Request Header
 * Fields Too Large" straight on the socket (lws gets none of the bytes that
 * passed the limit), logged as a refused upgrade naming the peer address,
 * and closed. */
void wsp__rxhook_accepted(wsp_server *srv, wsp_conn *cn);

/* cn became the established WebSocket of client cn->c.  Frames are checked
 * from here on.  If the client sent bytes before the handshake answer the
 * violation is acted on at once (see above). */
void wsp__rxhook_established(wsp_conn *cn);

/* Stop checking cn (answered as plain HTTP, or closed).  Idempotent. */
void wsp__rxhook_end(wsp_conn *cn);

/* Free the descriptor table (at exit). */
void wsp__rxhook_cleanup(void);

#endif
