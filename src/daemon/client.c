/* client.c - see client.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "alloc.h"
#include "daemon/client.h"
#include "daemon/clock.h"
#include "daemon/cursor.h"
#include "daemon/envelope.h"
#include "daemon/uring.h"
#include "daemon/wsframe.h"
#include "log.h"

/* Sends one io_uring submission carries at most (uring.h). */
#define WSP_URING_ENTRIES 1024

int wsp__client_init(wsp_server *srv)
{
	srv->txbuf = wsp_malloc(LWS_PRE + WSP_TX_BATCH_MAX);
	if (!srv->txbuf)
		return WSP_ERR_NOMEM;
	if (srv->cfg->io_uring) {
		wsp_error err;

		wsp_error_init(&err);
		srv->uring = wsp__uring_new(WSP_URING_ENTRIES, &err);
		if (srv->uring)
			wsp_info(NULL, "writes through io_uring: up to %d sockets' frames per system call",
				 WSP_URING_ENTRIES);
		else
			wsp_warn(NULL, "io_uring unavailable (%s): one send() per socket", err.text);
	}
	return 0;
}

void wsp__client_cleanup(wsp_server *srv)
{
	wsp_free(srv->txbuf);
	srv->txbuf = NULL;
	wsp__uring_free(srv->uring);
	srv->uring = NULL;
}

wsp_client *wsp__client_open(wsp_server *srv, struct lws *wsi, const wsp_handshake *hs)
{
	wsp_client *c = wsp_calloc(1, sizeof(*c));
	wsp_namespace *ns = hs->ns;
	json_t *welcome;

	if (!c)
		return NULL;
	c->srv = srv;
	c->ns = ns;
	c->wsi = wsi;
	c->refs = 1;
	memcpy(c->id, hs->id, sizeof(c->id));
	if (hs->has_user) {
		c->user = wsp_malloc(sizeof(*c->user));
		if (!c->user) {
			wsp_free(c);
			return NULL;
		}
		*c->user = hs->user;
	}
	memcpy(c->ip, hs->ip, sizeof(c->ip));
	c->since = hs->since;
	wsp_msgq_init(&c->q, (size_t)srv->cfg->send_queue_max_bytes,
		      (unsigned)srv->cfg->send_queue_max_messages);
	wsp_rate_init(&c->rate, srv->cfg->rate_limit, wsp__mono_ms());
	c->next = ns->clients;
	if (ns->clients)
		ns->clients->prev = c;
	ns->clients = c;
	ns->nclients++;
	srv->nclients++;
	wsp_strmap_add(&srv->per_ip, c->ip, 1);
	wsp_debug(ns->path, "client %s connected from %s (%s)", c->id, c->ip,
		  c->user ? c->user->name : "anonymous");
	welcome = json_pack("{s:s, s:s, s:s}", "type", "connected", "clientId", c->id, "namespace",
			    ns->path);
	if (welcome) {
		wsp_msg *m;

		/* A fresh client of a history namespace starts with the daemon's
		 * floor as its cursor: a reconnect before any message then misses
		 * nothing committed since it connected. */
		long long floor = ns->opts.history && c->since < 0 ? wsp__cursor_floor(srv->cursor) : -1;

		if (wsp_envelope_stamp(welcome, wsp_user_name(c->user)) == 0 &&
		    (m = wsp_envelope_success_floor(welcome, -1, floor))) {
			wsp__client_push(c, m);
			wsp_msg_unref(m);
		}
		json_decref(welcome);
	}
	return c;
}

void wsp__client_connected(wsp_client *c)
{
	wsp_namespace *ns = c->ns;

	if (ns->opts.on_connect)
		ns->opts.on_connect(c, c->user, ns->opts.user_data);
}

/* A socket we are closing no longer counts against its address (lws may
 * keep it a few seconds waiting for the peer's close acknowledgement). */
static void release_slot(wsp_client *c)
{
	if (!c->slot_released) {
		c->slot_released = true;
		wsp_strmap_add(&c->srv->per_ip, c->ip, -1);
	}
}

void wsp__client_drop(wsp_client *c)
{
	if (!c->wsi)
		return;
	release_slot(c);
	c->closing = true;
	wsp_msgq_cleanup(&c->q);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void wsp_client_close(wsp_client *c, int code, const char *reason)
{
	if (!c || !c->wsi || c->closing)
		return;
	release_slot(c);
	c->closing = true;
	c->close_code = code;
	/* Close reasons are at most 123 bytes in a close frame. */
	c->close_reason = wsp_strndup(reason ? reason : "", 123);
	/* What was queued before the close goes out first (write_some); the
	 * close frame follows it, and nothing follows the close frame. */
	lws_callback_on_writable(c->wsi);
	/* A peer that never reads never lets us write the queue or the close
	 * frame: lws drops the socket after 1 s. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 1);
}

void wsp__client_lws_closing(wsp_client *c)
{
	if (!c->wsi || c->closing)
		return;
	c->closing = true;
	wsp_msgq_cleanup(&c->q);
}

int wsp__client_push(wsp_client *c, wsp_msg *m)
{
	int rc;

	if (!c->wsi || c->closing)
		return 0;
	rc = wsp_msgq_push(&c->q, m);
	if (rc == WSP_ERR_LIMIT) {
		c->ns->counters.dropped++;
		c->srv->metrics.messages_dropped += 1 + c->q.count;   /* this one and the queued */
		/* Say whose fault it is: a socket that still takes bytes means
		 * the daemon fell behind, not that the peer stopped reading. */
		wsp__closing_warn(c, "send queue full (%u messages, %zu bytes; %s), closing 1008",
				  c->q.count, c->q.bytes,
				  lws_send_pipe_choked(c->wsi) ? "the peer is not reading"
							       : "the socket is writable: the daemon is behind");
		/* The queue is not delivered before this close: a reader this
		 * slow would hold it (and the socket) for good. */
		wsp_msgq_cleanup(&c->q);
		wsp_client_close(c, 1008, "send queue full");
		return rc;
	}
	if (rc != 0)
		return rc;
	c->srv->metrics.messages_out++;
	/* A non-empty queue already has a write coming (listed, or a writable
	 * callback requested). */
	if (c->q.count > 1)
		return 0;
	/* The direct path: the last write left nothing in lws's hands (so the
	 * socket took it whole) and no catch-up is pacing this queue
	 * (history.c pages from the writable callback): write at the end of
	 * this loop iteration.  Otherwise wait for POLLOUT, as lws must drain
	 * what it holds before anything else goes out. */
	if (!wsp__client_catching_up(c) && !lws_partial_buffered(c->wsi)) {
		if (!c->tx_listed) {
			c->tx_listed = true;
			c->refs++;
			c->tx_next = c->srv->tx_list;
			c->srv->tx_list = c;
		}
		return 0;
	}
	lws_callback_on_writable(c->wsi);
	return 0;
}

bool wsp__client_burst(const wsp_client *c, const wsp_msg *m)
{
	/* A message no queue of c's size holds is not a burst: pages could
	 * never send it either. */
	return c->wsi && !c->closing && m->len <= c->q.max_bytes && !wsp_msgq_fits(&c->q, m) &&
	       !lws_send_pipe_choked(c->wsi);
}

static void send_error(wsp_client *c, int code, const char *text, json_t *extra)
{
	wsp_msg *m = wsp_envelope_error(code, text, extra);

	if (m) {
		wsp__client_push(c, m);
		wsp_msg_unref(m);
	}
}

/* One whole message from the client. */
static void handle_message(wsp_client *c)
{
	wsp_namespace *ns = c->ns;
	wsp_error err;
	json_t *data;
	long wait;

	c->srv->metrics.messages_in++;
	if (c->rx.oversize) {
		char text[96];

		snprintf(text, sizeof(text), "message too large (limit %ld bytes)",
			 c->srv->cfg->max_message_bytes);
		send_error(c, 413, text, NULL);
		return;
	}
	wsp_error_init(&err);
	if (wsp_envelope_parse(c->rx.buf ? c->rx.buf : "", c->rx.len, &data, &err) < 0) {
		send_error(c, 400, err.text, NULL);
		return;
	}
	/* Every message costs a token, application pings too: a ping is
	 * answered with a pong, so an unlimited one was a free way to make the
	 * daemon write. */
	wait = wsp_rate_take(&c->rate, c->srv->cfg->rate_limit, wsp__mono_ms());
	if (wait > 0) {
		json_t *extra = json_pack("{s:i}", "retryAfterMs", (int)wait);

		send_error(c, 429, "rate limit exceeded", extra);
		json_decref(extra);
		json_decref(data);
		return;
	}
	/* Application pings are the framework's business: answered, not
	 * counted, not shown to handlers.  The pong carries jPulse's
	 * `timestamp` (ms since the epoch, its hello-todo answer's field). */
	if (wsp_envelope_is_ping(data)) {
		json_t *pong = json_pack("{s:s, s:I}", "type", "pong", "timestamp", (json_int_t)wsp__now_ms());
		wsp_msg *m;

		if (pong && wsp_envelope_stamp(pong, wsp_user_name(c->user)) == 0 &&
		    (m = wsp_envelope_success(pong, -1))) {
			wsp__client_push(c, m);
			wsp_msg_unref(m);
		}
		json_decref(pong);
		json_decref(data);
		return;
	}
	wsp_envelope_stamp(data, wsp_user_name(c->user));
	wsp__ns_count_received(ns, wsp_envelope_type(data), wsp_user_name(c->user), data);
	c->srv->anon_ctx = !c->user;
	if (ns->opts.on_message &&
	    ns->opts.on_message(c, data, c->user, ns->opts.user_data) != 0) {
		wsp_warn(ns->path, "handler failed for a '%s' message from %s", wsp_envelope_type(data), c->id);
		send_error(c, 500, "handler failed", NULL);
	}
	c->srv->anon_ctx = false;
	json_decref(data);
}

int wsp__client_rx(wsp_client *c, const char *in, size_t len, bool first, bool final,
		   size_t remaining)
{
	const wsp_config *cfg = c->srv->cfg;
	int rc;

	if (c->closing)
		return 0;
	rc = wsp_reasm_feed(&c->rx, in, len, first, final, remaining, (size_t)cfg->max_frame_bytes,
			    (size_t)cfg->max_message_bytes);
	if (rc == WSP_REASM_TOO_BIG) {
		wsp__closing_warn(c, "message over %ld bytes, closing 1009", cfg->max_frame_bytes);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 (unsigned char *)"message too big", 15);
		release_slot(c);
		return -1;
	}
	if (rc < 0)
		return -1;
	if (rc == WSP_REASM_DONE) {
		handle_message(c);
		wsp_reasm_done(&c->rx);
	}
	return 0;
}

/* Several queued messages go out as consecutive frames in ONE write (one
 * send(), one TCP segment train) instead of one write per writable
 * callback: per delivery, the system call and the loopback/TCP work it
 * carries dominate the daemon's CPU (perf: ~75 % kernel).  Server frames
 * are unmasked and we negotiate no extension, so the frames are a header
 * (2, 4 or 10 bytes) and the payload; lws writes them as raw bytes
 * (LWS_WRITE_HTTP on a ws connection is sent as is) and buffers what the
 * socket does not take, like any other write. */
/* Room in the socket's send buffer, at most WSP_TX_BATCH_MAX.  A batch larger
 * than the socket takes would leave lws to copy the rest to the heap and
 * hold it until the peer reads (up to WSP_TX_BATCH_MAX per slow socket); the
 * kernel's SO_SNDBUF counts overhead too, so half of it is payload. */
static size_t send_room(struct lws *wsi)
{
	int fd = lws_get_socket_fd(wsi), outq = 0, sndbuf = 0;
	socklen_t sl = sizeof(sndbuf);

	if (fd < 0 || ioctl(fd, SIOCOUTQ, &outq) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) < 0)
		return WSP_TX_BATCH_MAX;
	if (sndbuf / 2 <= outq)
		return 0;
	return (size_t)(sndbuf / 2 - outq) < WSP_TX_BATCH_MAX ? (size_t)(sndbuf / 2 - outq) : WSP_TX_BATCH_MAX;
}

/* After an lws_write of len bytes: when the socket did not take all of it,
 * lws holds the rest and sends it at POLLOUT before anything else of c
 * (the debug line is the partial-send test's witness on the lws path). */
static void held(const wsp_client *c, size_t len)
{
	if (lws_partial_buffered(c->wsi))
		wsp_debug(c->ns->path, "client %s: the socket did not take all of a %zu-byte write, lws holds the rest",
			  c->id, len);
}

/* Write the whole queued frames that fit the socket's free send space (at
 * most WSP_TX_BATCH_MAX bytes) in one write, built in the server's batch
 * buffer (wsframe.h); the number written (0: fewer than two fit, the
 * caller writes one the usual way), or -1. */
static int write_batch(wsp_client *c)
{
	size_t room = send_room(c->wsi);
	wsp_framebuf fb;
	unsigned n = 0;

	wsp_framebuf_init(&fb, c->srv->txbuf + LWS_PRE, WSP_TX_BATCH_MAX);
	while (n < c->q.count) {
		wsp_msg *m = wsp_msgq_at(&c->q, n);

		if (!wsp_framebuf_add(&fb, wsp_msg_payload(m), m->len, room))
			break;
		n++;
	}
	if (n < 2)
		return 0;
	if (lws_write(c->wsi, fb.start, fb.len, LWS_WRITE_HTTP) < (int)fb.len)
		return -1;
	held(c, fb.len);
	for (unsigned i = 0; i < n; i++)
		wsp_msgq_pop(&c->q);
	return (int)n;
}

/* Whether c wants another writable callback after a write: messages or a
 * ping remain, or a catch-up (history.h) queries its next page from that
 * callback once the queue has drained (a direct write may empty the queue
 * without one). */
static bool more_to_write(const wsp_client *c)
{
	return c->q.count || c->want_ping || wsp__client_catching_up(c);
}

/* Write c's queued messages: several as one batch (as many whole frames as
 * the socket's free space takes), one alone the usual way.  lws keeps what
 * the socket does not take and drains it at POLLOUT before it calls
 * SERVER_WRITEABLE again.  Asks for a writable callback while messages (or a
 * ping) remain.  Returns 0, or -1 when the connection failed. */
static int write_queue(wsp_client *c)
{
	wsp_msg *m;
	int n;

	if (c->q.count > 1) {
		n = write_batch(c);
		if (n < 0)
			return -1;
		if (n > 0) {
			if (more_to_write(c))
				lws_callback_on_writable(c->wsi);
			return 0;
		}
	}
	m = wsp_msgq_peek(&c->q);
	if (!m)
		return 0;
	if (lws_write(c->wsi, wsp_msg_payload(m), m->len, LWS_WRITE_TEXT) < (int)m->len)
		return -1;
	held(c, m->len);
	wsp_msgq_pop(&c->q);
	if (more_to_write(c))
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int write_some(wsp_client *c);

int wsp__client_writable(wsp_client *c)
{
	return write_some(c);
}

/* SERVER_WRITEABLE: lws holds none of c's output now. */
static int write_some(wsp_client *c)
{
	unsigned char buf[LWS_PRE + 16];
	/* lws 4.1.6 drops EMPTY pongs without a callback, so our pings carry a
	 * payload the client must echo. */
	static const char ping_payload[] = "wsp";

	if (c->closing && c->close_code) {
		/* wsp_client_close(): the queue first, then the close frame in
		 * a later callback, i.e. once lws has sent all of it (lws's
		 * close with output still buffered would drop the close frame). */
		if (c->q.count) {
			if (write_queue(c) < 0)
				return -1;
			lws_callback_on_writable(c->wsi);
			return 0;
		}
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)(c->close_reason ? c->close_reason : ""),
				 c->close_reason ? strlen(c->close_reason) : 0);
		return -1;
	}
	if (c->closing)
		return 0;
	if (c->want_ping) {
		c->want_ping = false;
		memcpy(buf + LWS_PRE, ping_payload, 3);
		if (lws_write(c->wsi, buf + LWS_PRE, 3, LWS_WRITE_PING) < 3)
			return -1;
		/* pong_timeout counts from the ping leaving, not from asking
		 * for it: a busy loop may get here seconds after ping_due
		 * (that deadline stays for a socket never writable). */
		if (c->awaiting_pong)
			wsp__tq_add(&c->srv->pongq, &c->tq);
		if (c->q.count)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	return write_queue(c);
}

static void uring_done(void *ud, int res, void *arg);

/* Send what the ring holds.  A ring that failed is not used again: the
 * daemon goes on with one send() per socket. */
static void uring_run(wsp_server *srv)
{
	if (wsp__uring_run(srv->uring, uring_done, NULL) == 0)
		return;
	wsp_err(NULL, "io_uring failed: one send() per socket from now on");
	wsp__uring_free(srv->uring);
	srv->uring = NULL;
}

/* Where the unsent rest of a frame is laid for lws_write (LWS_PRE bytes of
 * headroom before it): the server's batch buffer, or a heap block (*heap,
 * the caller frees it) when the rest is larger; NULL when out of memory. */
static unsigned char *rest_buf(wsp_server *srv, size_t len, unsigned char **heap)
{
	*heap = NULL;
	if (len <= WSP_TX_BATCH_MAX)
		return srv->txbuf + LWS_PRE;
	*heap = wsp_malloc(LWS_PRE + len);
	return *heap ? *heap + LWS_PRE : NULL;
}

/* m as one text frame: its header written into m's headroom (the same
 * bytes for every recipient, and those lws_write would put there); the
 * frame's first byte, its length in *len. */
static unsigned char *frame_of(wsp_msg *m, size_t *len)
{
	unsigned char head[WSP_FRAME_HEAD_MAX];
	size_t hl = wsp_frame_text_head(head, m->len);

	memcpy(wsp_msg_payload(m) - hl, head, hl);
	*len = hl + m->len;
	return wsp_msg_payload(m) - hl;
}

/* The direct write of c's one queued message as a send of the loop
 * iteration's io_uring submission: the whole frame (frame_of) is one send.
 * c's reference passes to the
 * send (uring_done drops it).  0 when queued, -1 when c is to be written
 * the usual way (no ring, TLS, several messages: write_batch's case). */
static int uring_queue(wsp_client *c)
{
	wsp_server *srv = c->srv;
	unsigned char *frame;
	size_t len;
	int fd;

	if (!srv->uring || c->q.count != 1 || lws_is_ssl(c->wsi) || (fd = lws_get_socket_fd(c->wsi)) < 0)
		return -1;
	frame = frame_of(wsp_msgq_peek(&c->q), &len);
	if (wsp__uring_add(srv->uring, fd, frame, len, c) == 0)
		return 0;
	/* The ring is full: send what it holds, then queue c. */
	uring_run(srv);
	return srv->uring ? wsp__uring_add(srv->uring, fd, frame, len, c) : -1;
}

/* A send of uring_queue answered: `res` bytes of c's head frame went. */
static void uring_done(void *ud, int res, void *arg)
{
	wsp_client *c = ud;
	unsigned char *frame;
	wsp_msg *m;
	size_t whole;

	(void)arg;
	/* Dropped meanwhile: its queue is gone, nothing more to write. */
	if (!c->wsi || !(m = wsp_msgq_peek(&c->q)))
		goto out;
	frame = frame_of(m, &whole);
	if (res == -EAGAIN || res == -ECANCELED) {
		/* Nothing went: the usual write, which lws buffers if need be. */
		if (write_queue(c) < 0)
			goto fail;
		goto out;
	}
	if (res < 0) {
		errno = -res;
		goto fail;
	}
	if ((size_t)res < whole) {
		/* The socket took part of the frame: lws sends the rest (and
		 * holds what it cannot) before anything else of this socket. */
		size_t rest = whole - (size_t)res;
		unsigned char *heap, *p = rest_buf(c->srv, rest, &heap);
		int n;

		if (!p)
			goto fail;
		wsp_debug(c->ns->path, "client %s: the socket took %d of a %zu-byte frame, lws sends the rest", c->id,
			  res, whole);
		memcpy(p, frame + res, rest);
		n = lws_write(c->wsi, p, rest, LWS_WRITE_HTTP);
		wsp_free(heap);
		if (n < (int)rest)
			goto fail;
	}
	wsp_msgq_pop(&c->q);
	if (more_to_write(c))
		lws_callback_on_writable(c->wsi);
	goto out;
fail:
	wsp__closing_warn(c, "write failed, closing");
	wsp__client_drop(c);
out:
	wsp__client_unref(c);
}

void wsp__client_flush(wsp_server *srv)
{
	/* Clients are listed newest first; write them in the order their
	 * queues filled (a namespace's broadcast reaches its sockets in list
	 * order).  Writing lists no one, but loop in case it ever does. */
	while (srv->tx_list) {
		wsp_client *c = srv->tx_list, *rev = NULL, *next;

		srv->tx_list = NULL;
		for (; c; c = next) {
			next = c->tx_next;
			c->tx_next = rev;
			rev = c;
		}
		for (c = rev; c; c = next) {
			next = c->tx_next;
			c->tx_next = NULL;
			c->tx_listed = false;
			/* Closed, closing (its close path writes the queue), or
			 * lws got output of its own buffered meanwhile (a pong):
			 * the writable callback's turn. */
			if (c->wsi && !c->closing && c->q.count) {
				if (lws_partial_buffered(c->wsi)) {
					lws_callback_on_writable(c->wsi);
				} else if (uring_queue(c) == 0) {
					continue;       /* its reference is the send's now */
				} else if (write_queue(c) < 0) {
					wsp__closing_warn(c, "write failed, closing");
					wsp__client_drop(c);
				}
			}
			wsp__client_unref(c);
		}
		/* One system call for this pass's direct writes. */
		if (srv->uring && wsp__uring_pending(srv->uring))
			uring_run(srv);
	}
}

void wsp__client_ref(wsp_client *c)
{
	c->refs++;
}

void wsp__client_unref(wsp_client *c)
{
	if (c && --c->refs == 0) {
		wsp_msgq_cleanup(&c->q);
		wsp_reasm_cleanup(&c->rx);
		wsp_free(c->user);
		wsp_free(c->close_reason);
		wsp_free(c);
	}
}

void wsp__client_unlink(wsp_client *c)
{
	wsp_namespace *ns = c->ns;
	wsp_server *srv = c->srv;

	wsp__tq_remove(&c->tq);
	if (c->prev)
		c->prev->next = c->next;
	else
		ns->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	ns->nclients--;
	srv->nclients--;
	release_slot(c);
	c->wsi = NULL;
	wsp_msgq_cleanup(&c->q);
	wsp_debug(ns->path, "client %s disconnected", c->id);
}

void wsp__client_gone(wsp_client *c)
{
	wsp_namespace *ns = c->ns;

	if (ns->opts.on_disconnect)
		ns->opts.on_disconnect(c, c->user, ns->opts.user_data);
	wsp__client_unref(c);
}

bool wsp__client_is(const wsp_client *c, const char *to)
{
	if (strncmp(to, WSP_TO_USER, sizeof(WSP_TO_USER) - 1) == 0)
		return c->user && strcmp(c->user->name, to + sizeof(WSP_TO_USER) - 1) == 0;
	return strcmp(c->id, to) == 0;
}


void wsp__closing_warn(wsp_client *c, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (!wsp_log_limit_ok(&c->srv->close_rl, 10, WSP_LOG_WARN, "sockets closed by the daemon"))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	wsp_warn(c->ns->path, "client %s (%s): %s", c->id, c->ip, text);
}

int wsp_client_send(wsp_client *c, json_t *data)
{
	wsp_msg *m;
	int rc;

	if (!c || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	if (wsp_envelope_stamp(data, "") < 0 || !(m = wsp_envelope_success(data, -1))) {
		json_decref(data);
		return WSP_ERR_NOMEM;
	}
	rc = wsp__client_push(c, m);
	wsp_msg_unref(m);
	json_decref(data);
	return rc;
}

int wsp_client_send_error(wsp_client *c, int code, const char *text)
{
	wsp_msg *m = wsp_envelope_error(code, text, NULL);
	int rc;

	if (!m)
		return WSP_ERR_NOMEM;
	rc = wsp__client_push(c, m);
	wsp_msg_unref(m);
	return rc;
}

const char *wsp_client_id(const wsp_client *c) { return c->id; }
wsp_namespace *wsp_client_namespace(const wsp_client *c) { return c->ns; }
const wsp_user *wsp_client_user(const wsp_client *c) { return c->user; }
void wsp_client_set_data(wsp_client *c, void *p) { c->data = p; }
void *wsp_client_get_data(const wsp_client *c) { return c->data; }
