/* sessions.c - see sessions.h. */
#include "config.h"

#include <string.h>

#include "daemon/bus.h"
#include "daemon/client.h"
#include "daemon/clock.h"
#include "daemon/sessions.h"
#include "log.h"

static void revoke_sid(wsp_server *srv, const char *sid, const char *reason)
{
	int code = strcmp(reason, "roles") == 0 ? 4403 : 4401;
	int closed = 0, reopened = 0;

	wsp_strmap_set(&srv->revoked, sid, ++srv->revoke_seq);
	for (int i = 0; i < srv->nns; i++) {
		wsp_namespace *ns = srv->nss[i];

		for (wsp_client *c = ns->clients; c; c = c->next) {
			if (!c->user || c->closing || strcmp(c->user->sid, sid) != 0)
				continue;
			if (ns->opts.require_auth) {
				wsp_client_close(c, code, code == 4403 ? "roles changed" : "session ended");
				closed++;
			} else {
				/* Open to anyone: the socket may stay, its identity
				 * may not (messages for the user would keep coming). */
				wsp_client_close(c, WSP_CLOSE_SESSION_ENDED, "session ended, reconnect");
				reopened++;
			}
		}
	}
	if (closed || reopened)
		wsp_info(NULL, "session %.8s... revoked (%s): closed %d socket%s with %d, %d with %d", sid, reason,
			 closed, closed == 1 ? "" : "s", code, reopened, WSP_CLOSE_SESSION_ENDED);
}

void wsp__sessions_notify(wsp_server *srv, const char *payload)
{
	char sid[WSP_SID_LEN + 1];

	if (strncmp(payload, "revoke:", 7) != 0 || strlen(payload) < 7 + WSP_SID_LEN + 1 ||
	    payload[7 + WSP_SID_LEN] != ':')
		return;
	memcpy(sid, payload + 7, WSP_SID_LEN);
	sid[WSP_SID_LEN] = '\0';
	revoke_sid(srv, sid, payload + 7 + WSP_SID_LEN + 1);
}

/* The re-read's answer replaces what was known before it was sent: those
 * sids are read again (or have expired).  A revocation notified while it
 * was in flight is kept even when the answer lacks it: with workers the
 * notification comes over the supervisor's connection, and a revoke that
 * committed after this query's snapshot can arrive before its answer.
 * Each sid's value is the revoke_seq it was last revoked at; the rows read
 * are revoked again (newer than any mark), then everything older than the
 * oldest re-read in flight is dropped. */
static void revoked_done(void *arg, const wsp_bus_res *r, const char *error)
{
	wsp_server *srv = arg;
	long mark = srv->revoke_mark;

	(void)error;
	srv->revoke_reads--;
	if (!r)
		return;
	for (int i = 0; i < wsp_bus_nrows(r); i++)
		revoke_sid(srv, wsp_bus_get(r, i, 0), wsp_bus_get(r, i, 1));
	wsp_strmap_drop_below(&srv->revoked, mark);
}

/* While re-reads overlap, the mark stays the oldest one's: dropping less
 * is safe (a sid kept too long only refuses a cookie that is dead anyway). */
void wsp__sessions_bus_up(wsp_server *srv)
{
	if (srv->revoke_reads++ == 0)
		srv->revoke_mark = srv->revoke_seq + 1;
	if (wsp_bus_query(srv->bus, "SELECT id, coalesce(revoke_reason, 'logout') FROM wsp_sessions "
				    "WHERE revoked_at IS NOT NULL AND expires_at > now()", 0, NULL, revoked_done, srv) < 0) {
		srv->revoke_reads--;
		wsp_debug("bus", "revoked sessions not re-read: the connection went again");
	}
}

/* Every second: close sockets whose session or token expired. */
static void sweep(wsp_server *srv, void *arg)
{
	long long now = wsp__now_ms() / 1000;
	int closed = 0, tclosed = 0;

	(void)arg;
	for (int i = 0; i < srv->nns; i++) {
		/* A connection token's user is closed at exp on every namespace
		 * (WSP_CLOSE_TOKEN_EXPIRED: the client fetches a fresh token and
		 * reconnects at once); a session's with 4401 where auth is
		 * required, elsewhere with WSP_CLOSE_SESSION_ENDED (it reconnects
		 * as whoever its cookie says now). */
		for (wsp_client *c = srv->nss[i]->clients; c; c = c->next)
			if (c->user && c->user->exp <= now && !c->closing) {
				if (c->user->token) {
					wsp_client_close(c, WSP_CLOSE_TOKEN_EXPIRED, "token expired");
					tclosed++;
				} else if (srv->nss[i]->opts.require_auth) {
					wsp_client_close(c, 4401, "session expired");
					closed++;
				} else {
					wsp_client_close(c, WSP_CLOSE_SESSION_ENDED, "session expired, reconnect");
					closed++;
				}
			}
	}
	if (closed)
		wsp_info(NULL, "closed %d socket%s: session expired", closed, closed == 1 ? "" : "s");
	if (tclosed)
		wsp_info(NULL, "closed %d socket%s with %d: token expired", tclosed, tclosed == 1 ? "" : "s",
			 WSP_CLOSE_TOKEN_EXPIRED);
}

int wsp__sessions_start(wsp_server *srv)
{
	return wsp_server_every(srv, 1000, sweep, NULL);
}
