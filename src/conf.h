/* conf.h - the one configuration file both programs read.
 *
 * Format: one `key = value` per line; `#` starts a comment line; blank lines
 * are ignored; values are taken verbatim after trimming (no quoting).  Keys of
 * list type (`modules`, `namespace`, `allowed_origins`, `trusted_proxies`) may repeat: each
 * line appends one item (for allowed_origins and trusted_proxies, whitespace-separated items).
 * Every key, its type and its default live in one table in conf.c;
 * `wsp_config_describe` prints that table (used by --help and the README).
 *
 * An unknown key, a malformed line, a bad number or an unreadable file is an
 * error naming file and line: no program starts on a config it misread.
 */
#ifndef WSP_CONF_H
#define WSP_CONF_H

#include <stdio.h>

#include "error.h"

#define WSP_DEFAULT_CONFIG WSP_SYSCONFDIR "/wspulse/wspulse.conf"

/* A growable list of owned strings. */
typedef struct wsp_strlist {
	char **v;
	int n;
} wsp_strlist;

/* One per program run; filled with defaults by wsp_config_init, then by the
 * file.  All strings are owned by the struct and freed by
 * wsp_config_cleanup. */
typedef struct wsp_config {
	/* shared */
	char *database;             /* libpq conninfo */
	char *secret_file;          /* HMAC key for session cookies (mode 0600) */
	char *log_level;            /* debug|info|warn|error */
	char *log_file;             /* empty: stderr */
	long session_ttl;           /* seconds a login stays valid */
	/* daemon */
	char *listen;               /* host:port of wspulsed */
	char *daemon_id;            /* empty: <hostname>:<port>:<pid> */
	char *workers;              /* number or "auto" */
	char *event_loop;           /* "epoll" (libev) or "poll" (lws's own) */
	int io_uring;               /* 1: a loop iteration's direct writes in one io_uring submission */
	char *tls_cert_file;        /* PEM certificate (+ chain): TLS on listen; empty: plain */
	char *tls_key_file;         /* PEM private key of tls_cert_file */
	long health_db_grace;       /* seconds the bus may be down before /health says 503 */
	long stop_notice;           /* seconds of /health 503 after SIGTERM before the sockets close */
	wsp_strlist allowed_origins;/* empty: Origin must match Host */
	wsp_strlist modules;        /* shared objects to dlopen */
	wsp_strlist namespaces;     /* config-declared namespaces: "PATH [opt=val ...]" */
	long max_message_bytes;     /* larger client messages: error 413 */
	long max_frame_bytes;       /* hard cap: close 1009 */
	long rate_limit;            /* client messages per second */
	long send_queue_max_bytes;  /* per client, then close 1008 */
	long send_queue_max_messages;
	long backlog_max_messages;  /* per namespace, for clients a burst left behind */
	long backlog_max_bytes;
	long max_connections_per_ip;
	long max_connections;
	long ping_interval;         /* seconds between protocol pings */
	long pong_timeout;          /* seconds to answer a ping */
	long handshake_timeout;     /* seconds to finish the HTTP upgrade */
	long stats_interval;        /* seconds between stats pushes/snapshots */
	long history_retention;     /* seconds outbox rows are kept */
	/* fcgi */
	char *fcgi_listen;          /* standalone/TCP listen address (--listen) */
	long fcgi_threads;          /* concurrent requests */
	long max_body_bytes;        /* larger request bodies: 413 */
	char *api_token_file;       /* bearer token for the publish API */
	char *cookie_domain;        /* Domain= of the session cookie; empty: host-only */
	wsp_strlist metrics_allow;  /* who may GET /api/1/websocket/metrics without a token (empty: loopback) */
	char *metrics_token_file;   /* bearer token for GET /api/1/websocket/metrics */
	char *token_secret_file;    /* HS256 key of connection tokens (empty: none accepted) */
	long login_max_failures;    /* per (address, user); per address x10 */
	long login_window;          /* first block and memory, seconds */
	long anon_write_rate;       /* anonymous REST writes per address per minute */
	wsp_strlist trusted_proxies;/* peers whose X-Real-IP/X-Forwarded-* (fcgi) and X-Wspulse-User
	                             * (wspulsed, trusted_proxy_auth) count; "unix": unix-socket peers */
	int trusted_proxy_auth;     /* 1: X-Wspulse-User/-Roles from trusted_proxies name the user */
	char *www_root;             /* static files (for template routes) */
	/* both */
	int demo;                   /* 1: the demo's namespaces and REST routes exist */
} wsp_config;

/* Fill cfg with the built-in defaults.  Returns 0 or WSP_ERR_NOMEM. */
int wsp_config_init(wsp_config *cfg);

/* Read `path` on top of what cfg holds.  Returns 0 or a negative code with
 * "path:line: what" in err. */
int wsp_config_load(wsp_config *cfg, const char *path, wsp_error *err);

/* Parse config text from memory (`name` is used in error messages). */
int wsp_config_parse(wsp_config *cfg, const char *text, size_t len, const char *name,
		     wsp_error *err);

/* Set one key from a string, as a config line would. */
int wsp_config_set(wsp_config *cfg, const char *key, const char *value, wsp_error *err);

/* Write the effective configuration as a config file (for --check-config). */
void wsp_config_dump(const wsp_config *cfg, FILE *out);

/* The keys whose values differ between a and b, in table order: calls
 * fn(key, ud) for each and returns how many differ (lists compare item by
 * item, in order).  Used by wspulsed's reload (daemon/reload.h). */
int wsp_config_diff(const wsp_config *a, const wsp_config *b,
		    void (*fn)(const char *key, void *ud), void *ud);

/* Copy one key's value from src into dst (dst's old value is freed).
 * Returns 0, WSP_ERR_INVALID for an unknown key, or WSP_ERR_NOMEM (dst then
 * keeps its old value). */
int wsp_config_copy_key(wsp_config *dst, const wsp_config *src, const char *key, wsp_error *err);

/* The value of `key` as a config line would write it (lists: the items
 * joined by spaces), truncated to fit `n` bytes; "" for an unknown key. */
void wsp_config_format(const wsp_config *cfg, const char *key, char *buf, size_t n);

/* Write the table of keys with their defaults and descriptions. */
void wsp_config_describe(FILE *out);

void wsp_config_cleanup(wsp_config *cfg);

/* Append a copy of s; returns 0 or WSP_ERR_NOMEM. */
int wsp_strlist_add(wsp_strlist *l, const char *s);
void wsp_strlist_clear(wsp_strlist *l);

#endif
