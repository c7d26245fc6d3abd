/* pingpong.c - see pingpong.h. */
#include "config.h"

#include <sys/ioctl.h>

#include "daemon/pingpong.h"

static void ping_due(wsp_tq_node *n)
{
	wsp_client *c = lws_container_of(n, wsp_client, tq);

	if (!c->wsi || c->closing)
		return;
	c->want_ping = true;
	c->awaiting_pong = true;
	lws_callback_on_writable(c->wsi);
	wsp__tq_add(&c->srv->pongq, &c->tq);
}

static void pong_due(wsp_tq_node *n)
{
	wsp_client *c = lws_container_of(n, wsp_client, tq);
	int fd, avail = 0;

	if (!c->wsi || c->closing)
		return;
	/* Bytes from the peer not read yet: it is alive and it is we who are
	 * late (a busy loop), so the pong may be among them.  Wait again. */
	fd = lws_get_socket_fd(c->wsi);
	if (fd >= 0 && ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) {
		wsp__tq_add(&c->srv->pongq, &c->tq);
		return;
	}
	wsp__closing_warn(c, "no pong within %ld s, closing", c->srv->cfg->pong_timeout);
	wsp__client_drop(c);
}

void wsp__ping_init(wsp_server *srv)
{
	wsp__tq_init(&srv->pingq, srv->ctx, srv->cfg->ping_interval * 1000LL, ping_due);
	wsp__tq_init(&srv->pongq, srv->ctx, srv->cfg->pong_timeout * 1000LL, pong_due);
}

void wsp__ping_stop(wsp_server *srv)
{
	wsp__tq_stop(&srv->pingq);
	wsp__tq_stop(&srv->pongq);
}

void wsp__ping_start(wsp_client *c)
{
	wsp__tq_add(&c->srv->pingq, &c->tq);
}

void wsp__ping_pong(wsp_client *c)
{
	if (!c->awaiting_pong)
		return;
	c->awaiting_pong = false;
	wsp__tq_add(&c->srv->pingq, &c->tq);
}

