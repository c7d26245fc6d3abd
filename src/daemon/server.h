/* server.h - the daemon object: one per process.  Its namespaces, the
 * per-namespace counters and activity log, the registries the handshake
 * reads (per-address counts, revoked sessions), the module timers, the
 * refusal/note log lines and GET /health.
 *
 * The bottom of the daemon's modules: server.c calls no other daemon
 * module, and nothing here dereferences a wsp_client (client.h) or another
 * module's state; those modules keep their state behind the opaque
 * pointers below and are reached through their own headers.
 *
 * Who calls whom (ARCHITECTURE.md, "The daemon's flows"): net side
 * proto.c -> handshake.c / client.c -> server.c; broadcast side bus.c ->
 * relay.c -> delivery.c -> history.c -> client.c -> server.c; the module
 * API's sends (api.c) -> relay.c / delivery.c.  No module calls one above
 * it (tests/arch/check-include-cycles.sh). */
#ifndef WSP_SERVER_H
#define WSP_SERVER_H

#include <stdbool.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "conf.h"
#include "conntoken.h"
#include "error.h"
#include "log.h"
#include "secret.h"
#include "token.h"
#include "wspulse/wspulse.h"

#include "daemon/backlog.h"
#include "daemon/hsrules.h"   /* struct wsp_user */
#include "daemon/metrics.h"
#include "daemon/msgq.h"
#include "daemon/nsreg.h"
#include "daemon/stats.h"
#include "daemon/strmap.h"
#include "daemon/timeq.h"

_Static_assert(WSP_MSG_PRE >= LWS_PRE, "wsp_msg headroom must cover LWS_PRE");

/* One per registered path. */
struct wsp_namespace {
	wsp_server *srv;
	char *path;
	wsp_namespace_opts opts;     /* require_roles points at `roles` */
	char **roles;
	wsp_client *clients;         /* doubly linked, this daemon's sockets (client.c links them) */
	int nclients;
	wsp_ns_counters counters;
	struct wsp_ns_presence *presence;   /* presence.c's, NULL until used */
	long long anon_sec;          /* activity log: the second and ... */
	unsigned anon_n;             /* ... its entries without a username (server.c) */
	/* Outbox deliveries kept for clients a burst left behind (history.c) */
	wsp_backlog backlog;
};

/* Close code for a socket whose connection token reached its exp (the
 * client asks its site for a fresh token and reconnects at once). */
#define WSP_CLOSE_TOKEN_EXPIRED 4408
/* Close code for a socket of a namespace open to anyone whose session was
 * revoked or expired: its identity must go (messages for that user would
 * keep reaching it), not the socket's purpose -- the client reconnects at
 * once and is whoever its cookie says now (anonymous after a logout). */
#define WSP_CLOSE_SESSION_ENDED 4409

/* A message's recipient (`client_id` in the outbox, "c" in a wsp_bcast
 * item) is a clientId, or WSP_TO_USER + a username: every socket logged in
 * as that user.  Usernames have no ':' and uuids no 'user:' prefix. */
#define WSP_TO_USER "user:"

/* A repeating module timer (wsp_server_every). */
typedef struct wsp_timer {
	lws_sorted_usec_list_t sul;
	wsp_server *srv;
	unsigned ms;
	void (*fn)(wsp_server *, void *);
	void *arg;
	struct wsp_timer *next;
} wsp_timer;

/* The daemon; one per process. */
struct wsp_server {
	const wsp_config *cfg;
	const wsp_secret *secret;
	const wsp_conntoken_key *token_key; /* NULL: no token_secret_file (tokens refused) */
	char id[128];
	char host[128];
	long long started_ms;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	void *evloop;                /* loop.c's libev loop (event_loop = epoll), else NULL */
	wsp_nsreg reg;
	wsp_namespace **nss;         /* registration order */
	int nns;
	bool registering;            /* wsp_register_namespace allowed */
	int module_api;              /* API version of the module being initialised (0: current) */
	long nclients;
	unsigned long long total_messages;
	wsp_activity activity;
	bool anon_ctx;               /* an anonymous client's on_message is running */
	wsp_strmap per_ip;           /* address -> open sockets (handshake.c, client.c) */
	wsp_strmap per_peer;         /* socket peer -> accepted connections in any state (proto.c) */
	wsp_strmap revoked;          /* sid -> when it was revoked (revoke_seq); sessions.c */
	long revoke_seq;             /* counts revocations seen (sessions.c) */
	long revoke_mark;            /* revoke_seq when the oldest re-read in flight was sent */
	int revoke_reads;            /* re-reads of the revoked sessions in flight */
	wsp_timer *timers;
	/* life: set by signal handlers and shutdown.c */
	volatile int sig_term, sig_hup;
	struct wsp_reload *reload;   /* what SIGHUP re-reads (main.c's; reload.h) */
	bool stopping, exit_loop;
	long long stop_deadline_ms;
	long long notice_end_ms;     /* stop_notice running after SIGTERM: when it ends; 0: not */
	lws_sorted_usec_list_t stop_sul, notice_sul;
	/* connection deadlines (client.c: pings and pongs; proto.c: handshakes) */
	wsp_timeq pingq, pongq, hsq;
	wsp_client *tx_list;         /* client.c's: clients to write at the end of this loop iteration */
	unsigned char *txbuf;        /* client.c's: the one batch of frames being written (wsframe.h) */
	struct wsp_uring *uring;     /* client.c's: a loop iteration's direct writes (uring.h); NULL: one send() each */
	wsp_log_limit refuse_rl, close_rl, note_rl; /* warn lines: at most 10 a second each */
	wsp_log_limit burst_rl;      /* info lines of burst catch-ups (history.c), 10 a second */
	lws_sorted_usec_list_t history_sul; /* history.c's: catch-up pages tried again after a failed query */
	bool history_retry;          /* history_sul is scheduled */
	wsp_metrics metrics;         /* what GET /api/1/websocket/metrics shows (metrics.h) */
	/* The PostgreSQL connection every bus user shares; relay.c creates it
	 * and keeps bus_down_since_ms (read by /health). */
	struct wsp_bus *bus;
	long long bus_down_since_ms; /* monotonic ms the bus went (or started) down; 0 while up */
	bool shared_reader;          /* notifications come from the supervisor's reader (reader.h), not the bus */
	/* Other modules' state, opaque here (each module's own .c). */
	struct wsp_cursor *cursor;   /* cursor.h: the outbox id window */
	struct wsp_relay *relay;     /* relay.c */
	struct wsp_snapshot *snapshot;      /* snapshot.c */
	struct wsp_prune *prune;     /* prune.c */
	struct wsp_presence *presence;      /* presence.c's, NULL until used */
};

wsp_server *wsp__server_new(const wsp_config *cfg, const wsp_secret *secret, wsp_error *err);
int wsp__server_declare_namespaces(wsp_server *srv, wsp_error *err);
/* Free the server and its namespaces (every module's own state is freed by
 * that module first: main.c's order). */
void wsp__server_free(wsp_server *srv);
/* Timers registered (wsp_server_every) before the context existed start now. */
void wsp__server_start_timers(wsp_server *srv);
/* Cancel every module timer (the SIGTERM sequence). */
void wsp__server_stop_timers(wsp_server *srv);
/* The answer to GET /health: returns the HTTP status and writes the JSON
 * body into buf.  503 while draining/stopping, and while the PostgreSQL bus
 * has been down for more than health_db_grace seconds (since start-up when
 * it never came up); data.status says which ("stopping", "database-down"),
 * data.reason in words.  200 otherwise, with data.database "up" or "down"
 * (down within the grace). */
int wsp__server_health(wsp_server *srv, char *buf, size_t len);
/* Log a refused upgrade at warn (at most 10 lines a second, the rest counted). */
void wsp__refused(wsp_server *srv, const char *ns, int status, enum wsp_refusal refusal, const char *why,
		  const char *ip);
/* Log something about an upgrade that is not a refusal (an ignored header),
 * at most 10 lines a second. */
void wsp__note(wsp_server *srv, const char *ns, const char *what, const char *ip);
/* Count one message in ns's stats and the activity log: a client's or a
 * broadcast of this daemon's own (never another daemon's module broadcast:
 * its origin counts it). */
void wsp__ns_count(wsp_namespace *ns, const char *type, const char *username, json_t *data);
/* The same for a message received from a client (direction "received"). */
void wsp__ns_count_received(wsp_namespace *ns, const char *type, const char *username, json_t *data);
/* The same for a REST broadcast, outbox row `outbox_id` (origin ''), which
 * every daemon and worker counts: kept apart so the merge counts it once. */
void wsp__ns_count_rest(wsp_namespace *ns, long long outbox_id, const char *type,
			const char *username, json_t *data);
/* A REST broadcast counted in ns's stats only, without an activity-log entry
 * (a worker with no client in ns, which need not parse it: relay.c). */
void wsp__ns_tally_rest(wsp_namespace *ns);

#endif
