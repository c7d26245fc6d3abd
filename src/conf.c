/* conf.c - see conf.h.  The key table below is the single source of
 * truth for names, types, defaults and documentation. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "db.h"

enum key_type { T_STR, T_LONG, T_LIST, T_WORDS, T_BOOL };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;     /* default as text */
	long min, max;       /* for T_LONG */
	const char *help;
};

#define OFF(f) offsetof(wsp_config, f)

static const struct key keys[] = {
	{ "database", T_STR, OFF(database), "dbname=wspulse", 0, 0,
	  "libpq conninfo of the PostgreSQL database both programs share" },
	{ "secret_file", T_STR, OFF(secret_file), WSP_SYSCONFDIR "/wspulse/secret", 0, 0,
	  "file holding the session-cookie key (hex, at least 32 bytes; mode 0600, or 0640 with the program's own group)" },
	{ "log_level", T_STR, OFF(log_level), "info", 0, 0, "debug, info, warn or error" },
	{ "log_file", T_STR, OFF(log_file), "", 0, 0, "append logs to this file (empty: stderr); SIGHUP reopens it" },
	{ "session_ttl", T_LONG, OFF(session_ttl), "86400", 60, 31536000, "seconds a login session stays valid" },
	{ "listen", T_STR, OFF(listen), "127.0.0.1:8081", 0, 0, "host:port wspulsed listens on" },
	{ "daemon_id", T_STR, OFF(daemon_id), "", 0, 0, "name of this daemon in stats (empty: host:port:pid)" },
	{ "workers", T_STR, OFF(workers), "1", 0, 0, "wspulsed worker processes on the listen port, or auto (one per core)" },
	{ "event_loop", T_STR, OFF(event_loop), "epoll", 0, 0,
	  "wspulsed's event loop: epoll (libev, O(active sockets) per wake-up) or poll (lws's own, O(all sockets))" },
	{ "io_uring", T_BOOL, OFF(io_uring), "on", 0, 0,
	  "on: wspulsed writes one loop iteration's frames to many sockets in one io_uring submission; off (or a kernel"
	  " that refuses io_uring): one send() per socket" },
	{ "tls_cert_file", T_STR, OFF(tls_cert_file), "", 0, 0,
	  "PEM certificate, then its chain: wspulsed speaks TLS (wss://) on listen (empty: plain)" },
	{ "tls_key_file", T_STR, OFF(tls_key_file), "", 0, 0, "PEM private key of tls_cert_file" },
	{ "health_db_grace", T_LONG, OFF(health_db_grace), "5", 0, 3600,
	  "seconds PostgreSQL may be unreachable before wspulsed's /health answers 503" },
	{ "stop_notice", T_LONG, OFF(stop_notice), "0", 0, 600,
	  "seconds wspulsed keeps serving after SIGTERM, /health 503 and upgrades refused, before it closes its sockets" },
	{ "allowed_origins", T_WORDS, OFF(allowed_origins), "", 0, 0,
	  "Origins allowed to open WebSockets (repeatable); empty: Origin must match the Host header" },
	{ "modules", T_LIST, OFF(modules), "", 0, 0, "shared object of a site module to load (repeatable)" },
	{ "namespace", T_LIST, OFF(namespaces), "", 0, 0,
	  "declare a code-free namespace: PATH [auth=on] [roles=a,b] [history=on] (repeatable)" },
	{ "max_message_bytes", T_LONG, OFF(max_message_bytes), "65536", 128, 16777216,
	  "largest client message accepted (larger: error envelope, code 413)" },
	{ "max_frame_bytes", T_LONG, OFF(max_frame_bytes), "1048576", 1024, 67108864,
	  "hard cap on one incoming message; above it the socket is closed with 1009" },
	{ "rate_limit", T_LONG, OFF(rate_limit), "50", 1, 100000, "client messages per second before code 429" },
	{ "send_queue_max_bytes", T_LONG, OFF(send_queue_max_bytes), "1048576", 1024, 1073741824,
	  "bytes queued to one slow client before it is closed (1008)" },
	{ "send_queue_max_messages", T_LONG, OFF(send_queue_max_messages), "1024", 1, 1000000,
	  "messages queued to one slow client before it is closed (1008)" },
	{ "backlog_max_messages", T_LONG, OFF(backlog_max_messages), "16384", 0, 10000000,
	  "a namespace's deliveries kept in memory for clients a burst left behind (0: they page from the outbox)" },
	{ "backlog_max_bytes", T_LONG, OFF(backlog_max_bytes), "16777216", 0, 1073741824,
	  "bytes of those deliveries kept per namespace" },
	{ "max_connections_per_ip", T_LONG, OFF(max_connections_per_ip), "100", 1, 10000000,
	  "concurrent sockets from one client address (X-Forwarded-For/X-Real-IP from trusted_proxies)" },
	{ "max_connections", T_LONG, OFF(max_connections), "100000", 1, 10000000, "concurrent sockets per worker" },
	{ "ping_interval", T_LONG, OFF(ping_interval), "30", 1, 3600, "seconds between protocol pings" },
	{ "pong_timeout", T_LONG, OFF(pong_timeout), "5", 1, 600, "seconds a client has to answer a ping" },
	{ "handshake_timeout", T_LONG, OFF(handshake_timeout), "10", 1, 600, "seconds to complete the HTTP upgrade" },
	{ "stats_interval", T_LONG, OFF(stats_interval), "5", 1, 3600, "seconds between stats pushes and snapshots" },
	{ "history_retention", T_LONG, OFF(history_retention), "3600", 10, 31536000,
	  "seconds broadcast outbox rows are kept for catch-up" },
	{ "fcgi_listen", T_STR, OFF(fcgi_listen), "", 0, 0,
	  "address wspulse.fcgi listens on when not given a socket (:PORT, HOST:PORT or a unix path)" },
	{ "fcgi_threads", T_LONG, OFF(fcgi_threads), "8", 1, 256, "requests wspulse.fcgi serves at once" },
	{ "max_body_bytes", T_LONG, OFF(max_body_bytes), "131072", 1024, 67108864, "largest REST request body (larger: 413)" },
	{ "api_token_file", T_STR, OFF(api_token_file), "", 0, 0,
	  "file holding the bearer token for POST /api/1/websocket/publish (empty: admins only)" },
	{ "metrics_allow", T_WORDS, OFF(metrics_allow), "", 0, 0,
	  "addresses or CIDR networks that may GET /api/1/websocket/metrics without a token (repeatable); empty: loopback only" },
	{ "metrics_token_file", T_STR, OFF(metrics_token_file), "", 0, 0,
	  "file holding a bearer token that may GET /api/1/websocket/metrics from any address (empty: none)" },
	{ "cookie_domain", T_STR, OFF(cookie_domain), "", 0, 0,
	  "Domain of the login cookie, e.g. .example.com, so that wspulsed on another host of the site gets it (empty: the page's host only)" },
	{ "token_secret_file", T_STR, OFF(token_secret_file), "", 0, 0,
	  "HS256 key of connection tokens (JWT) wspulsed accepts on the upgrade (empty: a token is refused); owner and mode as secret_file" },
	{ "trusted_proxy_auth", T_BOOL, OFF(trusted_proxy_auth), "off", 0, 0,
	  "on: wspulsed takes the user from X-Wspulse-User / X-Wspulse-Roles on upgrades from trusted_proxies (ignored and logged from anywhere else)" },
	{ "login_max_failures", T_LONG, OFF(login_max_failures), "5", 1, 1000000,
	  "login attempts per (address, user name) that are not successes, then 429 (per address: 10 times this)" },
	{ "login_window", T_LONG, OFF(login_window), "300", 1, 86400,
	  "seconds of the first block and of the memory; each further try after a block doubles it, up to 16 times" },
	{ "anon_write_rate", T_LONG, OFF(anon_write_rate), "60", 1, 1000000,
	  "anonymous REST writes (hello-todo create/toggle/delete) per client address per minute, then 429" },
	{ "trusted_proxies", T_WORDS, OFF(trusted_proxies), "", 0, 0,
	  "addresses or CIDR blocks whose X-Real-IP/X-Forwarded-For/X-Forwarded-Proto wspulse.fcgi and wspulsed believe"
	  " and, with trusted_proxy_auth, whose X-Wspulse-User wspulsed believes; `unix`: wspulsed's unix-socket peers"
	  " (repeatable, space separated); empty: none, the client is REMOTE_ADDR" },
	{ "demo", T_BOOL, OFF(demo), "off", 0, 0,
	  "on: the demo's namespaces (hello-emoji, hello-todo, jpulse-ws-test) and /api/1/helloTodo exist; off: 404" },
	{ "www_root", T_STR, OFF(www_root), WSP_PKGDATADIR "/www", 0, 0, "static browser assets (the admin page template)" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int wsp_strlist_add(wsp_strlist *l, const char *s)
{
	char **v = wsp_realloc(l->v, sizeof(*v) * (size_t)(l->n + 2));
	char *copy;

	if (!v)
		return WSP_ERR_NOMEM;
	l->v = v;
	copy = wsp_strdup(s);
	if (!copy)
		return WSP_ERR_NOMEM;
	l->v[l->n++] = copy;
	l->v[l->n] = NULL;
	return 0;
}

void wsp_strlist_clear(wsp_strlist *l)
{
	for (int i = 0; i < l->n; i++)
		wsp_free(l->v[i]);
	wsp_free(l->v);
	l->v = NULL;
	l->n = 0;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int set_value(wsp_config *cfg, const struct key *k, const char *value, wsp_error *err)
{
	char *base = (char *)cfg + k->offset;

	switch (k->type) {
	case T_STR: {
		char **p = (char **)base;
		char *copy = wsp_strdup(value);

		if (!copy)
			return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		wsp_free(*p);
		*p = copy;
		return 0;
	}
	case T_LONG: {
		char *end;
		long v;

		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < k->min || v > k->max)
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "%s must be an integer from %ld to %ld, not '%s'",
					     k->name, k->min, k->max, value);
		*(long *)base = v;
		return 0;
	}
	case T_BOOL:
		if (strcmp(value, "on") == 0)
			*(int *)base = 1;
		else if (strcmp(value, "off") == 0)
			*(int *)base = 0;
		else
			return wsp_error_set(err, WSP_ERR_INVALID, "%s must be on or off, not '%s'",
					     k->name, value);
		return 0;
	case T_LIST:
		if (!*value)
			return 0;
		if (wsp_strlist_add((wsp_strlist *)base, value) < 0)
			return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		return 0;
	case T_WORDS: {
		const char *p = value;

		while (*p) {
			size_t n;
			char word[1024];

			while (*p && (isspace((unsigned char)*p) || *p == ','))
				p++;
			n = strcspn(p, " \t,");
			if (!n)
				break;
			if (n >= sizeof(word))
				return wsp_error_set(err, WSP_ERR_INVALID, "%s: item too long", k->name);
			memcpy(word, p, n);
			word[n] = '\0';
			if (wsp_strlist_add((wsp_strlist *)base, word) < 0)
				return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
			p += n;
		}
		return 0;
	}
	}
	return wsp_error_set(err, WSP_ERR_INTERNAL, "bad key type");
}

int wsp_config_set(wsp_config *cfg, const char *key, const char *value, wsp_error *err)
{
	const struct key *k = find_key(key);

	if (!k)
		return wsp_error_set(err, WSP_ERR_INVALID, "unknown key '%s'", key);
	return set_value(cfg, k, value, err);
}

int wsp_config_init(wsp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type == T_LIST || keys[i].type == T_WORDS)
			continue;
		if (set_value(cfg, &keys[i], keys[i].def, NULL) < 0) {
			wsp_config_cleanup(cfg);
			return WSP_ERR_NOMEM;
		}
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int wsp_config_parse(wsp_config *cfg, const char *text, size_t len, const char *name,
		     wsp_error *err)
{
	size_t pos = 0;
	int lineno = 0;

	while (pos < len) {
		char buf[4096];
		size_t n = 0;
		char *line, *eq, *key, *val;
		wsp_error e;

		lineno++;
		while (pos < len && text[pos] != '\n') {
			if (text[pos] == '\0')
				return wsp_error_set(err, WSP_ERR_INVALID, "%s:%d: NUL byte in config",
						     name, lineno);
			if (n < sizeof(buf) - 1)
				buf[n] = text[pos];
			n++;
			pos++;
		}
		pos++; /* the newline */
		if (n >= sizeof(buf) - 1)
			return wsp_error_set(err, WSP_ERR_INVALID, "%s:%d: line too long", name, lineno);
		buf[n] = '\0';
		line = trim(buf);
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "%s:%d: expected 'key = value', got '%.60s'", name, lineno, line);
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		if (!*key)
			return wsp_error_set(err, WSP_ERR_INVALID, "%s:%d: missing key before '='", name,
					     lineno);
		wsp_error_init(&e);
		if (wsp_config_set(cfg, key, val, &e) < 0)
			return wsp_error_set(err, e.code, "%s:%d: %s", name, lineno, e.text);
	}
	return 0;
}

int wsp_config_load(wsp_config *cfg, const char *path, wsp_error *err)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (!f)
		return wsp_error_set(err, WSP_ERR_IO, "%s: cannot open config: %s", path,
				     strerror(errno));
	for (;;) {
		size_t got;

		if (len + 4096 > cap) {
			char *t;

			if (cap >= (1u << 20)) {
				fclose(f);
				wsp_free(text);
				return wsp_error_set(err, WSP_ERR_TOOBIG, "%s: config larger than 1 MiB", path);
			}
			cap = cap ? cap * 2 : 8192;
			t = wsp_realloc(text, cap);
			if (!t) {
				fclose(f);
				wsp_free(text);
				return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
			}
			text = t;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		wsp_free(text);
		return wsp_error_set(err, WSP_ERR_IO, "%s: read error", path);
	}
	fclose(f);
	rc = wsp_config_parse(cfg, text ? text : "", len, path, err);
	wsp_free(text);
	return rc;
}

/* A string option's value as it may be shown (dump, log lines): the
 * database's password never is (wsp_db_redact, into buf); any other
 * value is returned as it is. */
static const char *shown(const struct key *k, const char *value, char *buf, size_t n)
{
	if (strcmp(k->name, "database") != 0)
		return value;
	wsp_db_redact(value, buf, n);
	return buf;
}

void wsp_config_dump(const wsp_config *cfg, FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *base = (const char *)cfg + keys[i].offset;

		switch (keys[i].type) {
		case T_STR: {
			char red[1024];

			fprintf(out, "%s = %s\n", keys[i].name, shown(&keys[i], *(char *const *)base, red, sizeof(red)));
			break;
		}
		case T_LONG:
			fprintf(out, "%s = %ld\n", keys[i].name, *(const long *)base);
			break;
		case T_BOOL:
			fprintf(out, "%s = %s\n", keys[i].name, *(const int *)base ? "on" : "off");
			break;
		case T_LIST:
		case T_WORDS: {
			const wsp_strlist *l = (const wsp_strlist *)base;

			for (int j = 0; j < l->n; j++)
				fprintf(out, "%s = %s\n", keys[i].name, l->v[j]);
			break;
		}
		}
	}
}

static bool key_equal(const struct key *k, const wsp_config *a, const wsp_config *b)
{
	const char *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;

	switch (k->type) {
	case T_STR:
		return strcmp(*(char *const *)pa, *(char *const *)pb) == 0;
	case T_LONG:
		return *(const long *)pa == *(const long *)pb;
	case T_BOOL:
		return *(const int *)pa == *(const int *)pb;
	case T_LIST:
	case T_WORDS: {
		const wsp_strlist *la = (const wsp_strlist *)pa, *lb = (const wsp_strlist *)pb;

		if (la->n != lb->n)
			return false;
		for (int i = 0; i < la->n; i++)
			if (strcmp(la->v[i], lb->v[i]) != 0)
				return false;
		return true;
	}
	}
	return false;
}

int wsp_config_diff(const wsp_config *a, const wsp_config *b,
		    void (*fn)(const char *key, void *ud), void *ud)
{
	int n = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		if (key_equal(&keys[i], a, b))
			continue;
		n++;
		if (fn)
			fn(keys[i].name, ud);
	}
	return n;
}

int wsp_config_copy_key(wsp_config *dst, const wsp_config *src, const char *key, wsp_error *err)
{
	const struct key *k = find_key(key);
	char *pd, *ps;

	if (!k)
		return wsp_error_set(err, WSP_ERR_INVALID, "unknown key '%s'", key);
	pd = (char *)dst + k->offset;
	ps = (char *)src + k->offset;
	switch (k->type) {
	case T_STR: {
		char *copy = wsp_strdup(*(char **)ps);

		if (!copy)
			return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		wsp_free(*(char **)pd);
		*(char **)pd = copy;
		return 0;
	}
	case T_LONG:
		*(long *)pd = *(const long *)ps;
		return 0;
	case T_BOOL:
		*(int *)pd = *(const int *)ps;
		return 0;
	case T_LIST:
	case T_WORDS: {
		wsp_strlist l = { NULL, 0 };
		const wsp_strlist *from = (const wsp_strlist *)ps;

		for (int i = 0; i < from->n; i++)
			if (wsp_strlist_add(&l, from->v[i]) < 0) {
				wsp_strlist_clear(&l);
				return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
			}
		wsp_strlist_clear((wsp_strlist *)pd);
		*(wsp_strlist *)pd = l;
		return 0;
	}
	}
	return wsp_error_set(err, WSP_ERR_INTERNAL, "bad key type");
}

void wsp_config_format(const wsp_config *cfg, const char *key, char *buf, size_t n)
{
	const struct key *k = find_key(key);
	const char *p;
	size_t used = 0;

	if (!n)
		return;
	buf[0] = '\0';
	if (!k)
		return;
	p = (const char *)cfg + k->offset;
	switch (k->type) {
	case T_STR:
	{
		const char *v = shown(k, *(char *const *)p, buf, n);

		if (v != buf)
			snprintf(buf, n, "%s", v);
		break;
	}
	case T_LONG:
		snprintf(buf, n, "%ld", *(const long *)p);
		break;
	case T_BOOL:
		snprintf(buf, n, "%s", *(const int *)p ? "on" : "off");
		break;
	case T_LIST:
	case T_WORDS: {
		const wsp_strlist *l = (const wsp_strlist *)p;

		for (int i = 0; i < l->n && used + 1 < n; i++) {
			int w = snprintf(buf + used, n - used, "%s%s", i ? " " : "", l->v[i]);

			if (w < 0)
				break;
			used += (size_t)w;
		}
		break;
	}
	}
}

void wsp_config_describe(FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++)
		fprintf(out, "  %-24s %s (default: %s)\n", keys[i].name, keys[i].help,
			*keys[i].def ? keys[i].def : "empty");
}

void wsp_config_cleanup(wsp_config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++) {
		char *base = (char *)cfg + keys[i].offset;

		if (keys[i].type == T_STR) {
			wsp_free(*(char **)base);
			*(char **)base = NULL;
		} else if (keys[i].type == T_LIST || keys[i].type == T_WORDS) {
			wsp_strlist_clear((wsp_strlist *)base);
		}
	}
}
