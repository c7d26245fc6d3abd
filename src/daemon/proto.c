/* proto.c - see proto.h.
 *
 * Handshake refusals are real HTTP statuses: lws 4.1.6 offers
 * LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, called with the request headers before
 * it answers "101"; we run the handshake rules there and, to refuse, write a
 * status with lws_return_http_status() and return 1 ("headers already
 * sent").  The rules run again at ESTABLISHED (lws frees the HTTP-time
 * per-session data when it binds the ws protocol), where they only fail if
 * the state changed in between (then: close 4401/4403). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ev.h>

#include "alloc.h"
#include "cidr.h"
#include "daemon/accept.h"
#include "daemon/bus.h"
#include "daemon/client.h"
#include "daemon/conn.h"
#include "daemon/frameguard.h"
#include "daemon/handshake.h"
#include "daemon/history.h"
#include "daemon/listener.h"
#include "daemon/peeraddr.h"
#include "daemon/pingpong.h"
#include "daemon/presence.h"
#include "daemon/proto.h"
#include "daemon/reader.h"
#include "daemon/rxhook.h"
#include "daemon/supervisor.h"
#include "daemon/tls.h"
#include "log.h"

static wsp_server *the_server;
static ev_prepare flush_watcher;   /* event_loop = epoll: the end of each loop iteration */
static void (*wake_fn)(wsp_server *srv);   /* wsp__lws_start's on_wake */
static wsp_error tls_err;   /* why wsp_tls_setup failed, for wsp__lws_start */

/* A connection's handshake deadline (cn->hs_node in srv->hsq).  We time
 * handshakes ourselves, in a constant-delay queue, so that a connection
 * the daemon drops for not finishing its upgrade is logged (lws's own
 * timeouts, kept 2 s later as a backstop, close silently). */
static wsp_log_limit hs_rl;

static void hs_due(wsp_tq_node *n)
{
	wsp_conn *cn = lws_container_of(n, wsp_conn, hs_node);
	char peer[64] = "";

	if (wsp_log_limit_ok(&hs_rl, 10, WSP_LOG_WARN, "connections closed for an unfinished handshake")) {
		lws_get_peer_simple(cn->wsi, peer, sizeof(peer));
		wsp_warn(NULL, "connection from %s: no complete upgrade request within %ld s, closing",
			 peer, the_server->cfg->handshake_timeout);
	}
	lws_set_timeout(cn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* ---- a connection's life, on its one record (conn.h) */

/* Connections one socket peer may hold in any state -- being upgraded,
 * answered over HTTP and kept alive, open, closing -- is twice its
 * max_connections_per_ip open sockets (counted at the handshake, by
 * client address) plus PEER_SLACK: room for reconnects while old sockets
 * finish closing.  Without a bound a peer could hold descriptors up to the
 * daemon's limit with upgrades it never finishes or keep-alive requests,
 * and everyone else would get 503.  Trusted proxies and unix-socket peers
 * are not counted: behind one, every connection has its address. */
#define PEER_SLACK 64

/* The socket peer of fd as per_peer counts it; false: not counted. */
static bool peer_key(int fd, char *peer, size_t len)
{
	const wsp_config *cfg = the_server->cfg;

	return wsp__peer_text(fd, peer, len, "unix") == 0 && strcmp(peer, "unix") != 0 &&
	       !wsp_cidr_match_any(peer, cfg->trusted_proxies.v);
}

/* Before lws adopts fd (accept.h): refused when its socket peer holds
 * its bound already; the peer counted goes into key ("" if not counted). */
static bool conn_admit(int fd, char *key)
{
	long *n;

	if (!peer_key(fd, key, WSP_ACCEPT_KEY_MAX)) {
		key[0] = '\0';
		return true;
	}
	n = wsp_strmap_get(&the_server->per_peer, key);
	return !n || *n < 2 * the_server->cfg->max_connections_per_ip + PEER_SLACK;
}

/* accept.c: this worker holds max_connections sockets (the handshake would
 * refuse the next with 503; with workers, another may take it). */
static bool at_capacity(void)
{
	return the_server->nclients >= the_server->cfg->max_connections;
}

/* The connections this worker holds, for room.h's balance. */
static int load(void)
{
	return (int)the_server->nclients;
}

/* Accepted (accept.c): the record, its place in per_peer under the key
 * conn_admit wrote, the frame pre-check, the deadline.  Without memory
 * for a record the connection goes unchecked and lws's backstop timeout
 * applies. */
static void conn_adopted(struct lws *wsi, const char *key)
{
	wsp_conn *cn = wsp__conn_new(wsi);

	if (!cn)
		return;
	if (key[0] && snprintf(cn->peer, sizeof(cn->peer), "%s", key) < (int)sizeof(cn->peer) &&
	    wsp_strmap_add(&the_server->per_peer, cn->peer, 1) > 0)
		cn->counted = true;
	wsp__rxhook_accepted(the_server, cn);
	cn->handshaking = true;
	wsp__tq_add(&the_server->hsq, &cn->hs_node);
}

/* No longer being upgraded (upgraded, or answered as HTTP): the deadline
 * is off. */
static void conn_handshake_over(wsp_conn *cn)
{
	cn->handshaking = false;
	wsp__tq_remove(&cn->hs_node);
}

/* Answered as plain HTTP (a request, or a refused upgrade): nothing of it
 * is timed or pre-checked any more. */
static void conn_answered(wsp_conn *cn)
{
	if (!cn)
		return;
	conn_handshake_over(cn);
	wsp__rxhook_end(cn);
}

/* ESTABLISHED: the client, and everything that starts with it. */
static int conn_established(wsp_server *srv, wsp_conn *cn, const wsp_handshake *hs)
{
	wsp_client *c = wsp__client_open(srv, cn->wsi, hs);

	if (!c)
		return -1;
	cn->c = c;
	wsp__ping_start(c);
	wsp__presence_changed(c->ns);
	wsp__history_start(c);
	wsp__client_connected(c);
	/* From here on lws parses frames: pre-check them (rxhook.h). */
	wsp__rxhook_established(cn);
	return 0;
}

/* CLOSED: the client goes (it may live on while queries about it are in
 * flight, client.h); the record stays until WSI_DESTROY. */
static void conn_closed(wsp_conn *cn)
{
	wsp_client *c = cn->c;
	wsp_namespace *ns;

	wsp__rxhook_end(cn);
	if (!c)
		return;
	cn->c = NULL;
	ns = c->ns;
	wsp__client_unlink(c);
	wsp__presence_changed(ns);
	wsp__history_drop(c);
	wsp__client_gone(c);
}

/* WSI_DESTROY: the record goes. */
static void conn_destroyed(wsp_conn *cn)
{
	if (!cn)
		return;
	if (cn->c)
		conn_closed(cn);   /* (lws reports CLOSED first; in case it did not) */
	conn_answered(cn);
	if (cn->counted)
		wsp_strmap_add(&the_server->per_peer, cn->peer, -1);
	wsp__conn_free(cn);
}

static int send_json(struct lws *wsi, unsigned status, const char *body)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	size_t n = strlen(body);

	if (lws_add_http_common_headers(wsi, status, "application/json", n, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (lws_write(wsi, (unsigned char *)body, n, LWS_WRITE_HTTP_FINAL) != (int)n)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The reasons that concern one connection (the others come with a
 * context-level stand-in wsi, or none). */
static bool about_a_connection(enum lws_callback_reasons reason)
{
	switch (reason) {
	case LWS_CALLBACK_HTTP:
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
	case LWS_CALLBACK_RECEIVE_PONG:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		return true;
	default:
		return false;
	}
}

/* Count and log the upgrade the rules (or a module) refused: the detail is
 * logged when there is one, the reason sent otherwise. */
static void refused(wsp_server *srv, const wsp_handshake *hs)
{
	wsp__refused(srv, hs->ns ? hs->ns->path : NULL, hs->status, hs->refusal, hs->detail[0] ? hs->detail : hs->why,
		     hs->ip);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	wsp_server *srv = the_server;
	wsp_conn *cn = wsi && about_a_connection(reason) ? wsp__conn_of(wsi) : NULL;
	wsp_client *c = cn ? cn->c : NULL;
	wsp_handshake hs;
	char up[16];

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		conn_answered(cn);
		if (strcmp((const char *)in, "/health") == 0) {
			char body[400];
			int status = wsp__server_health(srv, body, sizeof(body));

			return send_json(wsi, (unsigned)status, body);
		}
		return send_json(wsi, 404, "{\"success\":false,\"error\":\"not found\",\"code\":404,\"username\":\"\"}");

	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* Not `in`: for an Upgrade it does not know, lws 4.1.6 answers
		 * 403, may release the header table `in` points into, and calls
		 * us all the same (CVE-2025-11677).  The copy reads through the
		 * table, and finds none then.  Compared without case (RFC 6455,
		 * as lws does). */
		if (lws_hdr_copy(wsi, up, sizeof(up), WSI_TOKEN_UPGRADE) <= 0 || strcasecmp(up, "websocket") != 0)
			return -1;
		wsp__handshake(srv, wsi, &hs);
		if (hs.note[0])
			wsp__note(srv, hs.ns ? hs.ns->path : NULL, hs.note, hs.ip);
		if (!hs.status)
			wsp__handshake_module(srv, wsi, &hs);
		if (!hs.status && hs.close_code) {
			/* Open, then close with the module's code (ESTABLISHED);
			 * without a record to carry it there, refuse with 403. */
			if (cn && cn->handshaking && (cn->close_reason = wsp_strdup(hs.reason))) {
				cn->close_code = hs.close_code;
				return 0;
			}
			hs.status = 403;
		}
		if (!hs.status)
			return 0;
		conn_answered(cn);
		refused(srv, &hs);
		if (lws_return_http_status(wsi, (unsigned)hs.status, hs.why))
			return -1;
		return 1;

	case LWS_CALLBACK_ESTABLISHED:
		if (!cn && !(cn = wsp__conn_new(wsi)))
			return -1;
		conn_handshake_over(cn);
		wsp__handshake(srv, wsi, &hs);
		if (!hs.status && cn->close_code) {
			const char *why = cn->close_reason ? cn->close_reason : "";

			snprintf(hs.detail, sizeof(hs.detail), "module closed it with %d: %s", cn->close_code, why);
			wsp__refused(srv, hs.ns ? hs.ns->path : NULL, cn->close_code, WSP_REFUSED_OTHER, hs.detail, hs.ip);
			lws_close_reason(wsi, (enum lws_close_status)cn->close_code, (unsigned char *)why, strlen(why));
			return -1;
		}
		if (hs.status) {
			refused(srv, &hs);
			lws_close_reason(wsi, hs.status == 401 ? 4401 : hs.status == 403 ? 4403 : LWS_CLOSE_STATUS_POLICY_VIOLATION,
					 (unsigned char *)hs.why, strlen(hs.why));
			return -1;
		}
		return conn_established(srv, cn, &hs);

	case LWS_CALLBACK_RECEIVE:
		if (!c)
			return -1;
		return wsp__client_rx(c, in, len, lws_is_first_fragment(wsi),
				      lws_is_final_fragment(wsi), lws_remaining_packet_payload(wsi));

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* lws echoes the close at its next POLLOUT: nothing of ours may
		 * be written directly after it. */
		if (c)
			wsp__client_lws_closing(c);
		/* lws 4.1.6 answers codes below 3000 that RFC 6455 reserves with
		 * 1002 itself, but echoes codes from 5000 up and a one-byte
		 * payload (no valid code at all): both are protocol errors.
		 * The frame pre-check (rxhook.c) refuses these before lws
		 * sees them; this stays for a connection it could not take
		 * on (its table could not grow). */
		if (len == 1 || (len >= 2 && (((const unsigned char *)in)[0] << 8 |
					      ((const unsigned char *)in)[1]) >= 5000)) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)"bad close code", 14);
			return -1;
		}
		return 0;

	case LWS_CALLBACK_RECEIVE_PONG:
		if (c)
			wsp__ping_pong(c);
		return 0;

	case LWS_CALLBACK_SERVER_WRITEABLE: {
		int rc;

		if (!c)
			return -1;
		rc = wsp__client_writable(c);
		if (rc == 0)
			wsp__history_drained(c);   /* the next catch-up page may fit now */
		return rc;
	}

	case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
		/* lws 4.1.6 calls this when it starts closing the connection,
		 * before its close frame is written (lib/core-net/close.c):
		 * from here on only lws writes (client.h, the direct path). */
		if (c)
			wsp__client_lws_closing(c);
		break;

	case LWS_CALLBACK_CLOSED:
		if (cn)
			conn_closed(cn);
		return 0;

	case LWS_CALLBACK_WSI_DESTROY:
		conn_destroyed(cn);
		break;

	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		/* The vhost's SSL_CTX (in `user`), created empty: tls.h. */
		return wsp_tls_enabled(srv->cfg) && wsp_tls_setup(user, srv->cfg, &tls_err) < 0 ? 1 : 0;

	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (srv && wake_fn)
			wake_fn(srv);
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static struct lws_protocols protocols[] = {
	/* rx_buffer_size: lws mallocs this much per WebSocket (rx_ubuf) and
	 * reads at most this much per wake-up; client messages are small and
	 * client.c reassembles larger ones from the pieces, so 256 bytes: 16
	 * KiB cost ~4 KiB of RSS per idle socket, 1 KiB 2.89 KiB, 256 bytes
	 * 2.14 KiB (BENCHMARKS.md, issue 18's idle-memory target).
	 * tx_packet_size: with 0, lws also caps each send() at rx_buffer_size
	 * and copies the rest of a write to the heap, draining it 1 KiB per
	 * POLLOUT; client.c already sizes its batches (at most 32 KiB) to the
	 * socket's free space, so let one write go out whole.
	 * per_session_data_size: the connection's record is conn.h's (lws
	 * opaque user data), but lws 4.1.6 delivers WS_SERVER_DROP_PROTOCOL
	 * (client.h's wsp__client_lws_closing relies on it) only to a protocol
	 * with per-session data: with 0 it never came and writepath.test.mjs
	 * saw frames after lws's own close frame.  So a pointer's worth, unused. */
	{ "wspulse", callback, sizeof(void *), 256, 0, NULL, 65536 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },   /* the bus protocol, filled in below */
	{ NULL, NULL, 0, 0, 0, NULL, 0 },   /* the accept protocol (accept.h) */
	{ NULL, NULL, 0, 0, 0, NULL, 0 },   /* the shared reader's socket (reader.h) */
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* See wsp__lws_start: secs_since_valid_hangup 0 is "no validity timer". */
static const lws_retry_bo_t no_validity = { .secs_since_valid_ping = 0, .secs_since_valid_hangup = 0 };

int wsp__lws_start(wsp_server *srv, void (*on_wake)(wsp_server *srv), wsp_error *err)
{
	struct lws_context_creation_info info;
	const wsp_config *cfg = srv->cfg;

	the_server = srv;
	wake_fn = on_wake;
	protocols[1] = wsp_bus_protocol;
	protocols[2] = wsp_accept_protocol;
	protocols[3] = wsp_reader_protocol;
	memset(&info, 0, sizeof(info));
	/* VALIDATE_UTF8: invalid text frames are closed with 1007 by lws. */
	info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
		       LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	/* lws never listens: a worker accepts on the supervisor's socket, a
	 * single daemon on one it opens the same way (workers.h: the accept
	 * path, and why it copes with the descriptor limit). */
	if (wsp_worker_listen_fd() < 0 && wsp_listen_open(cfg, err) < 0)
		return WSP_ERR_IO;
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	/* A connection must finish its upgrade within handshake_timeout: our
	 * hsq closes (and logs) it then.  lws's own limits stay as a silent
	 * backstop 2 s later: timeout_secs for network steps,
	 * keepalive_timeout for the wait for a request on a fresh connection,
	 * timeout_secs_ah_idle for a connection holding a header table. */
	info.timeout_secs = (unsigned)cfg->handshake_timeout + 2;
	info.keepalive_timeout = (int)cfg->handshake_timeout + 2;
	info.timeout_secs_ah_idle = (unsigned)cfg->handshake_timeout + 2;
	info.fd_limit_per_thread = 0;
	/* No lws "validity" timer on our sockets: client.c pings every socket
	 * itself (ping_interval, pong_timeout).  lws 4.1.6's default policy
	 * (ping after 300 s idle, hang up at 310 s) re-inserts a per-socket
	 * timer into one sorted list at every upgrade and every pong, a walk
	 * over all the process's sockets: with 12 000 sockets in a worker its
	 * 30-s pong wave alone kept the worker busy, pongs waited past
	 * pong_timeout and handshakes past handshake_timeout (BENCHMARKS.md,
	 * direct TLS connection scale).  A policy with no hang-up time turns
	 * it off for the vhost (the context keeps lws's default). */
	info.retry_and_idle_policy = &no_validity;
	/* lws 4.1.6 keeps the request's header values in a table of 4096
	 * bytes by default and drops the connection without an answer when it
	 * fills ("Ran out of header data space"): a 5 KB cookie could never
	 * open a socket, and nginx counted each drop as a failed upstream.  The
	 * table (allocated per handshake, freed after it) is sized above the
	 * head the frame guard lets through; past that the guard answers 431
	 * (rxhook.h). */
	info.max_http_header_data = WSP_REQUEST_HEAD_MAX + 2048;
	/* The event loop.  lws 4.1.6's own loop is poll() over every
	 * descriptor: each wake-up costs O(sockets), so with thousands of
	 * sockets the daemon spends its time polling idle ones.  By default
	 * we give lws a libev loop of our own ("foreign": we run it, see
	 * wsp__lws_run) on epoll, through lws's evlib_ev plugin (Debian
	 * builds lws with LWS_WITH_EVLIB_PLUGINS); a wake-up then costs
	 * O(ready sockets).  Everything else is unchanged: timers are lws_sul
	 * (lws drives them from a libev timer and idle watcher), the bus and
	 * accept descriptors are adopted wsis like any other, and signals
	 * stay ours (sigaction + lws_cancel_service), since lws only installs
	 * a SIGINT watcher on loops it creates itself. */
	if (strcmp(cfg->event_loop, "epoll") == 0) {
		static void *foreign[1];
		struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL);

		if (!loop)
			return wsp_error_set(err, WSP_ERR_IO, "cannot create an epoll event loop (libev)");
		srv->evloop = loop;
		foreign[0] = loop;
		info.foreign_loops = foreign;
		info.options |= LWS_SERVER_OPTION_LIBEV;
	} else if (strcmp(cfg->event_loop, "poll") != 0) {
		return wsp_error_set(err, WSP_ERR_INVALID, "event_loop must be epoll or poll, not '%s'",
				     cfg->event_loop);
	}
	/* Direct mode (tls.h): lws creates an empty SSL_CTX for the vhost and
	 * hands it to tls.c; every accepted connection is then TLS.  ALPN
	 * offers HTTP/1.1 only: WebSockets here are HTTP/1.1 upgrades. */
	if (wsp_tls_enabled(cfg)) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
				LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX;
		info.alpn = "http/1.1";
	}
	srv->ctx = lws_create_context(&info);
	if (!srv->ctx)
		return wsp_error_set(err, WSP_ERR_IO, "cannot create the libwebsockets context");
	info.vhost_name = "wspulse";
	wsp_error_init(&tls_err);
	srv->vh = lws_create_vhost(srv->ctx, &info);
	if (!srv->vh && tls_err.code)
		return wsp_error_set(err, tls_err.code, "%s", tls_err.text);
	if (!srv->vh)
		return wsp_error_set(err, WSP_ERR_IO, "cannot listen on %s", cfg->listen);
	wsp__server_start_timers(srv);
	if (wsp__client_init(srv) < 0)
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	wsp__ping_init(srv);
	wsp__tq_init(&srv->hsq, srv->ctx, cfg->handshake_timeout * 1000LL, hs_due);
	wsp_worker_accept_admit(conn_admit, "too many connections from this address");
	wsp_worker_accept_capacity(at_capacity);
	wsp_worker_accept_load(load);
	if (wsp_worker_accept_start(srv->vh, wsp_worker_total() > 1 ? 1 : WSP_ACCEPT_BATCH, conn_adopted) < 0)
		return wsp_error_set(err, WSP_ERR_IO, "cannot accept on the listening socket");
	/* lws re-arms its libev timer only after an I/O event or a timer
	 * callback; a wake-up of its event pipe makes sure the timers started
	 * above are seen even if no socket ever becomes ready. */
	lws_cancel_service(srv->ctx);
	return 0;
}

/* libev runs prepare watchers just before it waits for events: every
 * message pushed during this iteration leaves now (client.h). */
static void flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	wsp__client_flush(the_server);
}

void wsp__lws_run(wsp_server *srv)
{
	if (srv->evloop) {
		if (!srv->exit_loop) {
			ev_prepare_init(&flush_watcher, flush_cb);
			ev_prepare_start((struct ev_loop *)srv->evloop, &flush_watcher);
			ev_run((struct ev_loop *)srv->evloop, 0);
			ev_prepare_stop((struct ev_loop *)srv->evloop, &flush_watcher);
		}
		return;
	}
	/* lws's own loop: one lws_service() is one poll() and what it found. */
	while (!srv->exit_loop && lws_service(srv->ctx, 0) >= 0)
		wsp__client_flush(srv);
}

void wsp__lws_break(wsp_server *srv)
{
	srv->exit_loop = true;
	if (srv->evloop)
		ev_break((struct ev_loop *)srv->evloop, EVBREAK_ALL);
	else
		lws_cancel_service(srv->ctx);
}

void wsp__lws_destroy(wsp_server *srv)
{
	if (srv->ctx) {
		wsp__ping_stop(srv);
		wsp__tq_stop(&srv->hsq);
		lws_context_destroy(srv->ctx);
		srv->ctx = NULL;
		/* Every socket is closed now: this only gives back the
		 * references of clients still listed. */
		wsp__client_flush(srv);
		wsp__client_cleanup(srv);
		wsp__rxhook_cleanup();
		wsp_tls_cleanup();
	}
	if (srv->evloop) {
		ev_loop_destroy((struct ev_loop *)srv->evloop);
		srv->evloop = NULL;
	}
}
