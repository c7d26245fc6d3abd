/* proto.c - the lws side of wspulsed: the context, and one protocol
 * callback that is a thin switch onto plain functions in client.c.
 *
 * Handshake refusals are real HTTP statuses: lws 4.1.6 offers
 * LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, called with the request headers before
 * it answers "101"; we run the handshake rules there and, to refuse, write a
 * status with lws_return_http_status() and return 1 ("headers already
 * sent").  The rules run again at ESTABLISHED (lws frees the HTTP-time
 * per-session data when it binds the ws protocol), where they only fail if
 * the state changed in between (then: close 4401/4403). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "daemon/bus.h"
#include "daemon/daemon.h"
#include "daemon/workers.h"
#include "log.h"

/* Per-socket data lws allocates for us. */
struct pss {
	wsp_client *c;
};

static wsp_server *the_server;

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

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct pss *pss = user;
	wsp_server *srv = the_server;
	wsp_handshake hs;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (strcmp((const char *)in, "/health") == 0)
			return send_json(wsi, 200, srv->stopping ?
				"{\"success\":true,\"data\":{\"status\":\"stopping\",\"program\":\"wspulsed\"}}" :
				"{\"success\":true,\"data\":{\"status\":\"ok\",\"program\":\"wspulsed\"}}");
		return send_json(wsi, 404, "{\"success\":false,\"error\":\"not found\",\"code\":404,\"username\":\"\"}");

	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		if (strcmp((const char *)in, "websocket") != 0)
			return -1;
		wsp__handshake(srv, wsi, &hs);
		if (!hs.status)
			return 0;
		wsp_info(hs.ns ? hs.ns->path : NULL, "handshake refused: %d %s (%s)", hs.status, hs.why, hs.ip);
		if (lws_return_http_status(wsi, (unsigned)hs.status, hs.why))
			return -1;
		return 1;

	case LWS_CALLBACK_ESTABLISHED:
		wsp__handshake(srv, wsi, &hs);
		if (hs.status) {
			lws_close_reason(wsi, hs.status == 401 ? 4401 : hs.status == 403 ? 4403 : LWS_CLOSE_STATUS_POLICY_VIOLATION,
					 (unsigned char *)hs.why, strlen(hs.why));
			return -1;
		}
		pss->c = wsp__client_open(srv, wsi, &hs);
		return pss->c ? 0 : -1;

	case LWS_CALLBACK_RECEIVE:
		if (!pss->c)
			return -1;
		return wsp__client_rx(pss->c, in, len, lws_is_first_fragment(wsi),
				      lws_is_final_fragment(wsi), lws_remaining_packet_payload(wsi));

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* lws 4.1.6 answers codes below 3000 that RFC 6455 reserves with
		 * 1002 itself, but echoes codes from 5000 up and a one-byte
		 * payload (no valid code at all): both are protocol errors. */
		if (len == 1 || (len >= 2 && (((const unsigned char *)in)[0] << 8 |
					      ((const unsigned char *)in)[1]) >= 5000)) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)"bad close code", 14);
			return -1;
		}
		return 0;

	case LWS_CALLBACK_RECEIVE_PONG:
		if (pss->c)
			wsp__client_pong(pss->c);
		return 0;

	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss->c ? wsp__client_writable(pss->c) : -1;

	case LWS_CALLBACK_CLOSED:
		if (pss->c)
			wsp__client_closed(pss->c);
		pss->c = NULL;
		return 0;

	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (srv)
			wsp__server_signals(srv);
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static struct lws_protocols protocols[] = {
	{ "wspulse", callback, sizeof(struct pss), 16384, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },   /* the bus protocol, filled in below */
	{ NULL, NULL, 0, 0, 0, NULL, 0 },   /* a worker's accept protocol (workers.h) */
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

void wsp__server_start_timers(wsp_server *srv);

int wsp__lws_start(wsp_server *srv, wsp_error *err)
{
	struct lws_context_creation_info info;
	const wsp_config *cfg = srv->cfg;
	static char iface[256];
	int port = 0;

	the_server = srv;
	protocols[1] = wsp_bus_protocol;
	if (wsp_worker_listen_fd() >= 0)
		protocols[2] = wsp_accept_protocol;
	memset(&info, 0, sizeof(info));
	/* VALIDATE_UTF8: invalid text frames are closed with 1007 by lws. */
	info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
		       LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (wsp_worker_listen_fd() >= 0) {
		/* A worker: the supervisor's socket is accepted on in workers.c. */
		port = CONTEXT_PORT_NO_LISTEN_SERVER;
	} else if (strncmp(cfg->listen, "unix:", 5) == 0) {
		snprintf(iface, sizeof(iface), "%s", cfg->listen + 5);
		unlink(iface);
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
	} else {
		char *colon;

		snprintf(iface, sizeof(iface), "%s", cfg->listen);
		colon = strrchr(iface, ':');
		if (!colon || (port = atoi(colon + 1)) <= 0 || port > 65535)
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "listen must be HOST:PORT or unix:PATH, not '%s'", cfg->listen);
		*colon = '\0';
		if (iface[0] == '[' && colon > iface + 1 && colon[-1] == ']') {
			memmove(iface, iface + 1, strlen(iface));
			iface[strlen(iface) - 1] = '\0';
		}
	}
	info.port = port;
	info.iface = *iface ? iface : NULL;
	info.protocols = protocols;
	/* A connection must finish its upgrade within handshake_timeout: lws
	 * applies timeout_secs to network steps and keepalive_timeout to the
	 * wait for a request on a fresh connection, timeout_secs_ah_idle to
	 * a connection holding a header table without finishing it. */
	info.timeout_secs = (unsigned)cfg->handshake_timeout;
	info.keepalive_timeout = (int)cfg->handshake_timeout;
	info.timeout_secs_ah_idle = (unsigned)cfg->handshake_timeout;
	info.fd_limit_per_thread = 0;
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
	srv->ctx = lws_create_context(&info);
	if (!srv->ctx)
		return wsp_error_set(err, WSP_ERR_IO, "cannot create the libwebsockets context");
	info.vhost_name = "wspulse";
	srv->vh = lws_create_vhost(srv->ctx, &info);
	if (!srv->vh)
		return wsp_error_set(err, WSP_ERR_IO, "cannot listen on %s", cfg->listen);
	if (wsp_worker_accept_start(srv->vh) < 0)
		return wsp_error_set(err, WSP_ERR_IO, "cannot accept on the shared socket");
	wsp__server_start_timers(srv);
	wsp__client_timers_init(srv);
	/* lws re-arms its libev timer only after an I/O event or a timer
	 * callback; a wake-up of its event pipe makes sure the timers started
	 * above are seen even if no socket ever becomes ready. */
	lws_cancel_service(srv->ctx);
	return 0;
}

void wsp__lws_run(wsp_server *srv)
{
	if (srv->evloop) {
		if (!srv->exit_loop)
			ev_run((struct ev_loop *)srv->evloop, 0);
		return;
	}
	while (!srv->exit_loop && lws_service(srv->ctx, 0) >= 0)
		;
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
		wsp__client_timers_stop(srv);
		lws_context_destroy(srv->ctx);
		srv->ctx = NULL;
	}
	if (srv->evloop) {
		ev_loop_destroy((struct ev_loop *)srv->evloop);
		srv->evloop = NULL;
	}
}
