/* shutdown.c - see shutdown.h. */
#include "config.h"

#include "daemon/accept.h"
#include "daemon/client.h"
#include "daemon/clock.h"
#include "daemon/proto.h"
#include "daemon/reload.h"
#include "daemon/shutdown.h"
#include "daemon/supervisor.h"
#include "log.h"
#include "notify.h"

static void stop_check(lws_sorted_usec_list_t *sul)
{
	wsp_server *srv = lws_container_of(sul, wsp_server, stop_sul);

	if (srv->nclients == 0 || wsp__mono_ms() >= srv->stop_deadline_ms) {
		wsp__lws_break(srv);
		return;
	}
	lws_sul_schedule(srv->ctx, 0, &srv->stop_sul, stop_check, 20 * 1000);
}

void wsp__shutdown_start(wsp_server *srv)
{
	/* 1012 (service restart) for a rolling restart, 1001 (going away)
	 * otherwise: either way the client reconnects, with its jitter, to
	 * whichever daemon or worker is still accepting. */
	int code = wsp_worker_restarting ? 1012 : 1001;

	if (srv->stopping)
		return;
	srv->stopping = true;
	lws_sul_cancel(&srv->notice_sul);
	if (!wsp_worker_index())
		(void)wsp_notify("STOPPING=1", NULL);   /* a supervisor says it for its workers */
	wsp_worker_accept_stop();
	wsp_info(NULL, "stopping: closing %ld socket%s with %d", srv->nclients,
		 srv->nclients == 1 ? "" : "s", code);
	for (int i = 0; i < srv->nns; i++)
		for (wsp_client *c = srv->nss[i]->clients; c; c = c->next)
			wsp_client_close(c, code, code == 1012 ? "service restart" : "server shutting down");
	wsp__server_stop_timers(srv);
	srv->stop_deadline_ms = wsp__mono_ms() + 1500;
	lws_sul_schedule(srv->ctx, 0, &srv->stop_sul, stop_check, 1000);
}


static void notice_over(lws_sorted_usec_list_t *sul)
{
	wsp__shutdown_start(lws_container_of(sul, wsp_server, notice_sul));
}

void wsp__shutdown_signals(wsp_server *srv)
{
	if (srv->sig_hup) {
		srv->sig_hup = 0;
		if (srv->reload)
			wsp__reload_run(srv->reload, srv);   /* reopens the log too */
		else
			wsp_log_reopen();
	}
	if (!srv->sig_term || srv->stopping)
		return;
	if (wsp_worker_restarting || srv->cfg->stop_notice <= 0) {
		wsp__shutdown_start(srv);
	} else if (!srv->notice_end_ms) {
		srv->notice_end_ms = wsp__mono_ms() + srv->cfg->stop_notice * 1000LL;
		wsp_info(NULL, "stopping in %ld s (stop_notice): /health answers 503 and upgrades are refused until then",
			 srv->cfg->stop_notice);
		lws_sul_schedule(srv->ctx, 0, &srv->notice_sul, notice_over,
				 (lws_usec_t)srv->cfg->stop_notice * LWS_US_PER_SEC);
	}
}
