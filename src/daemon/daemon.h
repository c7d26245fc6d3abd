/* daemon.h - wspulsed internals shared by its files (not installed).
 *
 *   server.c   the server object, namespaces, the module API, stats
 *   client.c   one socket: handshake rules, receive path, send queue, ping
 *   relay.c    everything that crosses PostgreSQL: outbox delivery and
 *              replay, module broadcasts between daemons, session
 *              revocation, stats snapshots, history catch-up
 *   bus.c      the non-blocking libpq connection inside the lws loop
 *   proto.c    the lws protocol callback (a thin switch) and the context
 *   builtin.c  the built-in namespaces; modules.c  dlopen of site modules
 */
#ifndef WSP_DAEMON_H
#define WSP_DAEMON_H

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

#include "daemon/idwin.h"
#include "daemon/metrics.h"
#include "daemon/msgq.h"
#include "daemon/nsreg.h"
#include "daemon/rate.h"
#include "daemon/stats.h"
#include "daemon/strmap.h"
#include "daemon/uuid.h"

_Static_assert(WSP_MSG_PRE >= LWS_PRE, "wsp_msg headroom must cover LWS_PRE");

struct wsp_bus;

/* An entry of a wsp_timeq (embedded in what it times). */
typedef struct wsp_tq_node {
	struct wsp_tq_node *prev, *next;
	struct wsp_timeq *q;         /* NULL: in no queue */
	long long due_ms;
} wsp_tq_node;

/* The logged-in user of a socket, from the verified session cookie. */
struct wsp_user {
	char name[WSP_USERNAME_MAX + 1];
	char roles[WSP_ROLES_MAX + 1];
	char sid[WSP_SID_LEN + 1];   /* "" for a connection-token user */
	long long exp;
	bool token;                  /* from a connection token: closed with 4408 at exp */
};

/* One per registered path. */
struct wsp_namespace {
	wsp_server *srv;
	char *path;
	wsp_namespace_opts opts;     /* require_roles points at `roles` */
	char **roles;
	wsp_client *clients;         /* doubly linked, this daemon's sockets */
	int nclients;
	wsp_ns_counters counters;
	struct wsp_ns_presence *presence;   /* presence.c's, NULL until used */
	long long anon_sec;          /* activity log: the second and ... */
	unsigned anon_n;             /* ... its entries without a username (server.c) */
};

/* One per connected socket (created at LWS_CALLBACK_ESTABLISHED). */
struct wsp_client {
	wsp_server *srv;
	wsp_namespace *ns;
	struct lws *wsi;             /* NULL once the socket is closed */
	wsp_client *prev, *next;
	unsigned refs;               /* the socket + pending queries about it */
	char id[WSP_UUID_LEN + 1];
	wsp_user *user;              /* allocated; NULL: anonymous (no valid session) */
	char ip[64];
	wsp_msgq q;
	wsp_rate rate;
	char *rx;                    /* message being reassembled */
	size_t rx_len, rx_cap, rx_total;
	bool rx_oversize;
	void *data;                  /* module storage */
	bool closing;
	bool slot_released;          /* per-address count already given back */
	int close_code;
	char *close_reason;          /* allocated by wsp_client_close() */
	bool want_ping, awaiting_pong;
	/* Health timer: in srv->pingq (next ping due) or srv->pongq (pong due). */
	wsp_tq_node tq;
	long long since;             /* ?since=, -1 if absent */
	bool replaying;              /* catch-up not finished (history.c) */
	struct wsp_catchup *cu;      /* history.c's state of it; NULL: none */
	/* On srv->tx_list (holding a reference): its queue went from empty to
	 * non-empty this loop iteration and is written directly at the end of
	 * it, without a POLLOUT round trip (client.c, "the write path"). */
	bool tx_listed;
	wsp_client *tx_next;
};

/* Close code for a socket whose connection token reached its exp (the
 * client asks its site for a fresh token and reconnects at once). */
#define WSP_CLOSE_TOKEN_EXPIRED 4408

#define WSP_REASON_MAX 120      /* bytes of a close reason (a close frame holds 123) */

/* What the handshake rules decided for one upgrade request. */
typedef struct wsp_handshake {
	int status;                  /* 0 = accept, else the HTTP status */
	const char *why;             /* sent in the refusal */
	char detail[WSP_ERROR_TEXT_MAX]; /* logged instead of why when set (never sent) */
	char note[160];              /* logged (warn) once per upgrade even when accepted */
	int close_code;              /* a module's 4000-4999 refusal: open, then close with it */
	char reason[WSP_REASON_MAX + 1]; /* a module's refusal text (why points here) */
	wsp_namespace *ns;
	bool has_user;
	wsp_user user;
	char ip[64];
	char id[WSP_UUID_LEN + 1];
	long long since;
} wsp_handshake;

/* A timer queue whose entries all wait the same delay, so appending keeps
 * it sorted: O(1) to add or remove a client, one lws_sul per queue.  (lws
 * 4.1.6 keeps its timers in one sorted list with an O(n) insert: a sul per
 * client made connecting n clients O(n^2).)  One per server: pings and
 * pong deadlines. */
typedef struct wsp_timeq {
	wsp_tq_node *head, *tail;
	long long delay_ms;
	void (*due)(wsp_tq_node *n); /* called with n already removed */
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;  /* scheduled at or before head's due time */
} wsp_timeq;

/* Append n (due delay_ms from now), leaving any queue it was in. */
void wsp__tq_add(wsp_timeq *q, wsp_tq_node *n);
/* Leave its queue (no-op if in none). */
void wsp__tq_remove(wsp_tq_node *n);
/* Stop the queue's timer (before the lws context goes). */
void wsp__tq_stop(wsp_timeq *q);

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
	void *evloop;                /* our libev loop (event_loop = epoll), else NULL */
	wsp_nsreg reg;
	wsp_namespace **nss;         /* registration order */
	int nns;
	bool registering;            /* wsp_register_namespace allowed */
	int module_api;              /* API version of the module being initialised (0: current) */
	long nclients;
	unsigned long long total_messages;
	wsp_activity activity;
	bool anon_ctx;               /* an anonymous client's on_message is running */
	wsp_strmap per_ip;
	wsp_strmap revoked;          /* sid -> 1 (logout/deleted/expired) or 2 (roles) */
	wsp_timer *timers;
	/* shutdown */
	volatile int sig_term, sig_hup;
	struct wsp_reload *reload;   /* what SIGHUP re-reads (main.c's; reload.h) */
	bool stopping, exit_loop;
	long long stop_deadline_ms;
	long long notice_end_ms;     /* stop_notice running after SIGTERM: when it ends; 0: not */
	wsp_timeq pingq, pongq;
	wsp_timeq hsq;               /* accepted connections not yet upgraded (proto.c) */
	wsp_client *tx_list;         /* clients to write at the end of this loop iteration */
	wsp_log_limit refuse_rl, close_rl, note_rl; /* warn lines: at most 10 a second each */
	lws_sorted_usec_list_t stop_sul, sweep_sul, stats_sul, flush_sul, gc_sul, notice_sul;
	unsigned long sweeps;         /* sweep_cb ticks (1 s), for the periodic malloc_trim */
	/* relay state */
	struct wsp_bus *bus;
	long long bus_down_since_ms; /* monotonic ms the bus went (or started) down; 0 while up */
	bool floor_known;
	wsp_idwin seen;
	long long replay_from;
	bool outbox_replaying;       /* replay pages in flight: NOTIFY fetches wait */
	bool replay_again;           /* the shared reader restarted during a replay: one more */
	bool reader_replay;          /* the replay in flight is one the shared reader asked for */
	bool shared_reader;          /* notifications come from the supervisor's reader (reader.h) */
	char *fetch_ids;             /* "{1,2,3" being collected */
	bool fetch_queued;
	json_t *batch;               /* pending module broadcasts (array) */
	size_t batch_bytes;
	bool flush_scheduled;
	json_t *cluster;             /* last summed stats, NULL if none */
	wsp_metrics metrics;         /* what GET /api/1/websocket/metrics shows (metrics.h) */
	long long cluster_ms;
	struct wsp_presence *presence;      /* presence.c's, NULL until used */
};

/* clocks */
long long wsp__now_ms(void);          /* wall clock, ms */
long long wsp__mono_ms(void);         /* monotonic, ms */

/* server.c */
wsp_server *wsp__server_new(const wsp_config *cfg, const wsp_secret *secret, wsp_error *err);
int wsp__server_declare_namespaces(wsp_server *srv, wsp_error *err);
void wsp__server_free(wsp_server *srv);
void wsp__server_stop(wsp_server *srv);         /* begin the SIGTERM sequence */
/* The answer to GET /health: returns the HTTP status and writes the JSON
 * body into buf.  503 while draining/stopping, and while the PostgreSQL bus
 * has been down for more than health_db_grace seconds (since start-up when
 * it never came up); data.status says which ("stopping", "database-down"),
 * data.reason in words.  200 otherwise, with data.database "up" or "down"
 * (down within the grace). */
int wsp__server_health(wsp_server *srv, char *buf, size_t len);
/* Act on flags set by signal handlers.  SIGTERM/SIGINT with stop_notice
 * set: the sockets are served for stop_notice seconds more while /health
 * answers 503 "stopping" and upgrades are refused with 503 (sig_term is
 * set), so that a load balancer takes the daemon out before its clients are
 * told to reconnect; then wsp__server_stop.  A rolling restart (SIGUSR2)
 * stops at once. */
void wsp__server_signals(wsp_server *srv);
/* Log a refused upgrade at warn (at most 10 lines a second, the rest counted). */
void wsp__refused(wsp_server *srv, const char *ns, int status, const char *why, const char *ip);
/* Log something about an upgrade that is not a refusal (an ignored header),
 * at most 10 lines a second. */
void wsp__note(wsp_server *srv, const char *ns, const char *what, const char *ip);
/* Log at warn that the daemon closes c and why (same limit, its own count). */
void wsp__closing_warn(wsp_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getStats() without "daemons", this process's own (NEW reference); with
 * `snapshot`, plus the internal keys of the wsp_daemon_stats row that
 * wsp_stats_merge needs (stats.h), else exactly the public shape. */
json_t *wsp__local_stats(wsp_server *srv, bool snapshot);
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
/* A message's recipient (`client_id` in the outbox, "c" in a wsp_bcast
 * item) is a clientId, or WSP_TO_USER + a username: every socket logged in
 * as that user.  Usernames have no ':' and uuids no 'user:' prefix. */
#define WSP_TO_USER "user:"
/* true if c is (one of) the recipient(s) `to`. */
bool wsp__client_is(const wsp_client *c, const char *to);
/* Send one serialised message to the namespace's local clients; client_id
 * NULL = all, else a recipient as above.  `id` >= 0 marks an outbox
 * message (for ?since= replays). */
void wsp__ns_send(wsp_namespace *ns, wsp_msg *m, const char *client_id, long long id);

/* client.c */
void wsp__handshake(wsp_server *srv, struct lws *wsi, wsp_handshake *hs);
/* After wsp__handshake accepted: the namespace's on_upgrade (wspulse.h), once
 * per upgrade (at LWS_CALLBACK_HTTP_CONFIRM_UPGRADE).  A refusal sets
 * hs->status (400-499) or hs->close_code (4000-4999), hs->why and hs->detail. */
void wsp__handshake_module(wsp_server *srv, struct lws *wsi, wsp_handshake *hs);
wsp_client *wsp__client_open(wsp_server *srv, struct lws *wsi, const wsp_handshake *hs);
int wsp__client_rx(wsp_client *c, const char *in, size_t len, bool first, bool final,
		   size_t remaining);
int wsp__client_writable(wsp_client *c);
void wsp__client_pong(wsp_client *c);
void wsp__client_closed(wsp_client *c);
/* Drop c's socket without lws's close handshake (lws writes no close frame
 * and waits for none; rxhook.c writes its own beforehand), when no pong
 * came in time or a frame fails the pre-check.  c no longer counts against
 * its address, is marked closing (nothing more is queued or written; what
 * was queued is released now), and lws closes the connection at its next
 * timeout check (LWS_TO_KILL_ASYNC), so this is safe from a timer and from
 * inside any lws callback, this socket's own included.  c stays valid until
 * lws reports the close (wsp__client_closed).  The caller logs why.
 * Calling it again is harmless; once the socket is closed (c->wsi NULL) it
 * does nothing. */
void wsp__client_drop(wsp_client *c);
/* Queue m for c (a new reference); closes c with 1008 when a bound of its
 * queue would be passed (what was queued is dropped), and does nothing for
 * a closing client.  Returns 0, WSP_ERR_LIMIT or WSP_ERR_NOMEM.  A push to
 * an empty queue whose socket had room the last time (lws holds none of its
 * output) lists c for wsp__client_flush() instead of asking lws for POLLOUT:
 * the frame leaves in this loop iteration, and every message pushed to c
 * before the end of it leaves in the same write. */
int wsp__client_push(wsp_client *c, wsp_msg *m);
/* The end of a loop iteration (proto.c calls it before the loop waits
 * again): write every listed client's queue directly, as one write, with
 * lws_write().  What the socket does not take, lws keeps and sends at
 * POLLOUT before anything else (it owns POLLOUT for it); the rest of the
 * queue then waits for SERVER_WRITEABLE as before.  Never blocks. */
void wsp__client_flush(wsp_server *srv);
/* lws is closing c's connection itself (the peer's close frame, a protocol
 * error, a callback that returned -1): nothing more is queued or written
 * (a direct write could otherwise follow lws's close frame); the queue is
 * released.  Harmless when c is already closing. */
void wsp__client_lws_closing(wsp_client *c);
void wsp__client_unref(wsp_client *c);

/* relay.c */
int wsp__relay_start(wsp_server *srv);
void wsp__relay_stop(wsp_server *srv);
/* Cross-daemon part of a module broadcast (local delivery is done). */
void wsp__relay_broadcast(wsp_namespace *ns, json_t *data, const char *username,
			  const char *client_id);
/* A history namespace: insert into the outbox, deliver when the id is known. */
int wsp__relay_history(wsp_namespace *ns, json_t *data, const char *username,
		       const char *client_id);

/* history.c: ?since= catch-up, paged and paced by the client's send queue.
 * At connect, a history-namespace client with since >= 0 starts its
 * catch-up (relay_client_since): pages of the rows it missed, each sized to
 * the free half of its send queue, the next one queried only once the
 * queue has drained to a quarter (history_drained, from the write path).
 * Live outbox messages for it meanwhile go through history_live.  A query
 * waits for the bus and for the daemon's own outbox replay (resume). */
void wsp__relay_client_since(wsp_client *c);
/* A live outbox message `id` for c while c->cu is set (addressed: sent to
 * its clientId only, so never in a page).  true: history.c took care of it (held, sent, or
 * dropped as one the catch-up sends or sent); false: send it as usual. */
bool wsp__history_live(wsp_client *c, wsp_msg *m, long long id, bool addressed);
/* c's send queue shrank: query the next page if it waits for that. */
void wsp__history_drained(wsp_client *c);
void wsp__history_drop(wsp_client *c);
void wsp__history_resume(wsp_server *srv);
void wsp__relay_stats_tick(wsp_server *srv);

/* client.c: the ping/pong timer queues (srv->pingq, srv->pongq). */
void wsp__client_timers_init(wsp_server *srv);
void wsp__client_timers_stop(wsp_server *srv);

/* proto.c */
/* Create the lws context and vhost on the configured event loop. */
int wsp__lws_start(wsp_server *srv, wsp_error *err);
/* Run the loop until wsp__lws_break(); returns when the daemon should exit. */
void wsp__lws_run(wsp_server *srv);
/* Sets exit_loop and makes wsp__lws_run() return (loop thread only). */
void wsp__lws_break(wsp_server *srv);
/* Destroy the context (and our libev loop); NULL-safe, idempotent. */
void wsp__lws_destroy(wsp_server *srv);

/* presence.c: cluster-wide presence (src/presence.h) */
void wsp__presence_changed(wsp_namespace *ns);    /* a local socket joined or left ns */
void wsp__presence_notify(wsp_server *srv, const char *payload);   /* NOTIFY wsp_presence */
void wsp__presence_bus_up(wsp_server *srv);       /* (re)connected: rewrite every row */
void wsp__presence_bus_down(wsp_server *srv);
int wsp__presence_start(wsp_server *srv);         /* the heartbeat; 0 or WSP_ERR_NOMEM */
void wsp__presence_stop(wsp_server *srv);         /* cancel the timers */
void wsp__presence_free(wsp_server *srv);         /* in wsp__server_free */

/* builtin.c / modules.c */
int wsp__builtin_init(wsp_server *srv);
int wsp__modules_load(wsp_server *srv, wsp_error *err);

#endif
