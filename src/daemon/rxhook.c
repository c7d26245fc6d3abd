/* rxhook.c - see rxhook.h. */
#include "config.h"

/* This file defines recv() itself: the fortified inline wrapper of
 * <sys/socket.h> would clash with that definition. */
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "alloc.h"
#include "daemon/client.h"
#include "daemon/frameguard.h"
#include "daemon/rxhook.h"
#include "log.h"

/* The guarded connections by descriptor (descriptors are small and dense):
 * tab[fd] is the record of the connection on fd (conn.h), NULL for any
 * other descriptor (libpq's, the accept socket, a plain HTTP request). */
static wsp_conn **tab;
static size_t ntab;
static wsp_server *rx_srv;

/* Enter cn at its descriptor; false when the table cannot grow (logged
 * once: the connection is then simply not pre-checked). */
static bool enter(wsp_conn *cn)
{
	static bool warned;
	int fd = cn->fd;

	if (fd < 0)
		return false;
	if ((size_t)fd >= ntab) {
		size_t n = ntab ? ntab : 256;
		wsp_conn **t;

		while (n <= (size_t)fd)
			n *= 2;
		t = wsp_realloc(tab, n * sizeof(*t));
		if (!t) {
			if (!warned)
				wsp_warn(NULL, "out of memory: frames of new connections are not pre-checked");
			warned = true;
			return false;
		}
		memset(t + ntab, 0, (n - ntab) * sizeof(*t));
		tab = t;
		ntab = n;
	}
	tab[fd] = cn;
	cn->guarded = true;
	return true;
}

/* The guarded connection on fd, or NULL. */
static wsp_conn *guarded(int fd)
{
	return fd >= 0 && (size_t)fd < ntab && tab[fd] && tab[fd]->guarded ? tab[fd] : NULL;
}

void wsp__rxhook_accepted(wsp_server *srv, wsp_conn *cn)
{
	rx_srv = srv;
	if (enter(cn))
		wsp_frameguard_init(&cn->g, true);
}

/* Write the n bytes at p to the connection once, without waiting: over TLS
 * as one record through its SSL, else straight to the socket.  A short or
 * failed write is given up (the connection is being dropped anyway). */
static void send_now(wsp_conn *e, int fd, const void *p, size_t n)
{
	SSL *ssl = lws_get_ssl(e->wsi);

	if (ssl)
		(void)!SSL_write(ssl, p, (int)n);
	else
		(void)!send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The upgrade request is too large: answer 431 ourselves (lws would drop
 * the connection without a word once its header table is full, and nginx
 * would count that as a failed upstream).  Too many bytes, or too many
 * header lines and query parameters for lws's table (frameguard.h). */
#define TOO_MANY_BYTES "request headers over 16384 bytes"
#define TOO_MANY_FIELDS "request headers over 64 fields"
static void too_large(wsp_conn *e, int fd)
{
	/* Not the byte limit: the field limit. */
	const char *why = e->g.head <= WSP_REQUEST_HEAD_MAX ? TOO_MANY_FIELDS : TOO_MANY_BYTES;
	char peer[64], resp[256];
	int n;

	_Static_assert(WSP_REQUEST_HEAD_MAX == 16384 && WSP_REQUEST_FIELDS_MAX == 64, "the 431 body names the limit");
	peer[0] = '\0';
	lws_get_peer_simple(e->wsi, peer, sizeof(peer));
	if (rx_srv)
		wsp__refused(rx_srv, NULL, 431, WSP_REFUSED_HEADERS_TOO_LARGE, why, peer);
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 431 Request Header Fields Too Large\r\n"
		     "Content-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     strlen(why), why);
	if (n > 0 && (size_t)n < sizeof(resp))
		send_now(e, fd, resp, (size_t)n);
	lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Fail the connection (RFC 6455 7.1.7): see rxhook.h. */
static void violated(wsp_conn *e, int fd)
{
	unsigned char f[4 + 123];
	size_t rl = strlen(e->g.why);
	wsp_client *c = e->c;

	if (rl > 123)
		rl = 123;
	if (c)
		wsp__closing_warn(c, "%s, closing %u", e->g.why, (unsigned)e->g.code);
	if (!lws_partial_buffered(e->wsi)) {
		f[0] = 0x88;                      /* FIN, close */
		f[1] = (unsigned char)(2 + rl);
		f[2] = (unsigned char)(e->g.code >> 8);
		f[3] = (unsigned char)e->g.code;
		memcpy(f + 4, e->g.why, rl);
		send_now(e, fd, f, 4 + rl);
	}
	/* Without a client (not ESTABLISHED) there is nothing to mark and no
	 * per-address slot taken: only the connection goes. */
	if (c)
		wsp__client_drop(c);
	else
		lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void wsp__rxhook_established(wsp_conn *cn)
{
	if (!cn->guarded || cn->fd < 0 || (size_t)cn->fd >= ntab || tab[cn->fd] != cn) {
		/* Not entered at accept (the table could not grow then): from a
		 * frame boundary, as lws has just parsed the request. */
		if (!enter(cn))
			return;
		wsp_frameguard_init(&cn->g, false);
	}
	if (wsp_frameguard_upgraded(&cn->g))
		violated(cn, cn->fd);
}

void wsp__rxhook_end(wsp_conn *cn)
{
	cn->guarded = false;
	if (cn->fd >= 0 && (size_t)cn->fd < ntab && tab[cn->fd] == cn)
		tab[cn->fd] = NULL;
}

void wsp__rxhook_cleanup(void)
{
	wsp_free(tab);
	tab = NULL;
	ntab = 0;
}

/* Pass the bytes of a guarded descriptor through its guard: how many lws
 * gets (-1/EAGAIN: none, they were discarded). */
static ssize_t filter(wsp_conn *e, int fd, unsigned char *buf, size_t n)
{
	size_t clean;

	if (e->g.code) {             /* already failed: lws gets nothing more */
		errno = EAGAIN;
		return -1;
	}
	if (!wsp_frameguard_feed(&e->g, buf, n, &clean))
		return (ssize_t)n;
	/* Failed: lws gets none of the bytes, not even whole frames before
	 * the bad one -- their messages would be ignored (the client is
	 * closing) and a ping among them would be answered after our close
	 * frame.  Before ESTABLISHED the guard only counts (it fails there
	 * only for a request too large): lws still needs the request in front
	 * of the frames. */
	if (e->g.code == WSP_REQUEST_TOO_LARGE) {
		too_large(e, fd);
		clean = 0;
	} else if (e->c) {
		violated(e, fd);
		clean = 0;
	}
	if (!clean) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)clean;
}

/* The interposed recv(): lws_ssl_capable_read_no_ssl() calls this. */
ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = recvfrom(fd, buf, len, flags, NULL, NULL);
	wsp_conn *cn;

	if (n <= 0 || flags || !(cn = guarded(fd)))
		return n;
	return filter(cn, fd, buf, (size_t)n);
}

/* TLS connections (direct mode, tls.h): lws 4.1.6 reads them with
 * SSL_read(wsi->tls.ssl, buf, len) in lws_ssl_capable_read()
 * (lib/tls/openssl/openssl-ssl.c); the socket underneath is read by
 * OpenSSL's socket BIO with read(), so recv() above never sees those bytes.
 * The same interposition one level up: this SSL_read() calls OpenSSL's own
 * (found with dlsym(RTLD_NEXT)) and runs the decrypted bytes of a guarded
 * connection through its guard.  Other SSL objects (libpq's, when
 * PostgreSQL is reached over TLS) pass through untouched.
 *
 * Bytes lws must not get cannot be reported as EAGAIN here: lws asks
 * SSL_get_error(), which would call a bare -1 after a successful read a
 * fatal error.  They are read and discarded until OpenSSL itself says it
 * wants more bytes (SSL_ERROR_WANT_READ: lws waits for the next POLLIN, as
 * after EAGAIN) or reports an error or the peer's close (lws closes).  Up to
 * 64 reads per call, so a client streaming bytes at us cannot hold the
 * loop; past that, lws sees an error and closes the connection. */
typedef int (*ssl_read_fn)(SSL *ssl, void *buf, int num);

static ssl_read_fn real_ssl_read(void)
{
	static ssl_read_fn fn;

	if (!fn) {
		fn = (ssl_read_fn)dlsym(RTLD_NEXT, "SSL_read");
		if (!fn) {
			fprintf(stderr, "wspulsed: cannot find OpenSSL's SSL_read: %s\n", dlerror());
			abort();
		}
	}
	return fn;
}

static int ssl_discard(ssl_read_fn rd, SSL *ssl, void *buf, int num)
{
	int n = -1;

	for (int i = 0; i < 64; i++) {
		n = rd(ssl, buf, num);
		if (n <= 0)
			return n;
	}
	return -1;
}

int SSL_read(SSL *ssl, void *buf, int num)
{
	ssl_read_fn rd = real_ssl_read();
	int n = rd(ssl, buf, num), fd;
	wsp_conn *e;
	size_t clean;

	if (n <= 0)
		return n;
	fd = SSL_get_fd(ssl);
	if (!(e = guarded(fd)) || lws_get_ssl(e->wsi) != ssl)
		return n;
	if (e->g.code)               /* already failed: lws gets nothing more */
		return ssl_discard(rd, ssl, buf, num);
	if (!wsp_frameguard_feed(&e->g, buf, (size_t)n, &clean))
		return n;
	if (e->g.code == WSP_REQUEST_TOO_LARGE) {   /* see filter() */
		too_large(e, fd);
		clean = 0;
	} else if (e->c) {
		violated(e, fd);
		clean = 0;
	}
	if (!clean)
		return ssl_discard(rd, ssl, buf, num);
	return (int)clean;
}
