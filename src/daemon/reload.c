/* reload.c - see reload.h. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "daemon/server.h"
#include "daemon/reload.h"
#include "daemon/tls.h"
#include "log.h"

/* One reloadable key.  apply (may be NULL) runs before the new value is
 * copied into the running configuration; a failure keeps the old value.
 * `fresh` is the newly read file; srv is NULL in a supervisor. */
struct reload_key {
	const char *key;
	bool unused;                 /* not read by wspulsed (wspulse.fcgi's key) */
	bool every_time;             /* apply even when the value is unchanged */
	bool for_supervisor;         /* also applied in a workers supervisor */
	int (*apply)(wsp_reload *rl, wsp_server *srv, const wsp_config *fresh, wsp_error *err);
	const char *effect;          /* said in the log line */
};

static int apply_log(wsp_reload *rl, wsp_server *srv, const wsp_config *fresh, wsp_error *err)
{
	(void)rl;
	(void)srv;
	if (wsp_log_level_parse(fresh->log_level) < 0)
		return wsp_error_set(err, WSP_ERR_INVALID, "log_level must be debug, info, warn or error, not '%s'",
				     fresh->log_level);
	if (wsp_log_open(NULL, fresh->log_level, fresh->log_file) < 0)
		return wsp_error_set(err, WSP_ERR_IO, "cannot open log file %s", fresh->log_file);
	return 0;
}

/* The session secret: re-read on every reload (rotation in place), put in
 * place only when it loads and checks. */
static int apply_secret(wsp_reload *rl, wsp_server *srv, const wsp_config *fresh, wsp_error *err)
{
	wsp_secret s;

	(void)srv;
	if (wsp_secret_load(&s, fresh->secret_file, err) < 0)
		return err ? err->code : WSP_ERR_IO;
	if (!wsp_ct_equal(s.key, s.len, rl->secret->key, rl->secret->len)) {
		*rl->secret = s;
		wsp_info(NULL, "reload: session secret from %s is new: sessions signed with the old one are refused from now on",
			 fresh->secret_file);
	}
	memset(&s, 0, sizeof(s));
	return 0;
}

/* The connection-token key (token_secret_file): re-read on every reload
 * (rotation in place), put in place only when it loads and checks; tokens
 * signed with the old key are refused from then on.  Turning tokens on or
 * off needs a restart (whether the daemon takes tokens at all is fixed at
 * start-up: srv->token_key). */
static int apply_token_key(wsp_reload *rl, wsp_server *srv, const wsp_config *fresh, wsp_error *err)
{
	wsp_conntoken_key k;

	(void)srv;
	if (!rl->cfg->token_secret_file[0] != !fresh->token_secret_file[0])
		return wsp_error_set(err, WSP_ERR_INVALID, "turning connection tokens %s needs a restart",
				     fresh->token_secret_file[0] ? "on" : "off");
	if (!fresh->token_secret_file[0])
		return 0;
	if (wsp_conntoken_key_load(&k, fresh->token_secret_file, err) < 0)
		return err ? err->code : WSP_ERR_IO;
	if (!wsp_ct_equal(k.key, k.len, rl->token_key->key, rl->token_key->len)) {
		*rl->token_key = k;
		wsp_info(NULL, "reload: connection-token key from %s is new: tokens signed with the old one are refused from now on",
			 fresh->token_secret_file);
	}
	memset(&k, 0, sizeof(k));
	return 0;
}

/* The TLS certificate and key (direct mode, tls.h): re-read on every
 * reload (renewal in place) into the live SSL_CTX; open connections keep
 * theirs.  Bad files keep the old pair.  TLS cannot be turned on or off
 * without a restart. */
static int apply_tls(wsp_reload *rl, wsp_server *srv, const wsp_config *fresh, wsp_error *err)
{
	int rc;

	(void)srv;
	if (wsp_tls_enabled(rl->cfg) != wsp_tls_enabled(fresh))
		return wsp_error_set(err, WSP_ERR_INVALID, "turning TLS %s needs a restart",
				     wsp_tls_enabled(fresh) ? "on" : "off");
	if (!wsp_tls_enabled(fresh))
		return 0;
	rc = wsp_tls_reload(fresh, err);
	if (rc == 0)
		wsp_info(NULL, "reload: TLS certificate re-read from %s: new handshakes get it", fresh->tls_cert_file);
	return rc < 0 ? rc : 0;
}

static const struct reload_key table[] = {
	{ "log_level", false, false, true, apply_log, "now" },
	{ "log_file", false, false, true, apply_log, "now" },
	{ "secret_file", false, true, false, apply_secret, "new connections" },
	{ "token_secret_file", false, true, false, apply_token_key, "new connections" },
	{ "tls_cert_file", false, true, false, apply_tls, "new connections" },
	{ "tls_key_file", false, false, false, apply_tls, "new connections" },
	{ "allowed_origins", false, false, false, NULL, "new connections" },
	{ "trusted_proxy_auth", false, false, false, NULL, "new connections" },
	{ "trusted_proxies", false, false, false, NULL, "new connections" },
	{ "max_connections", false, false, false, NULL, "new connections" },
	{ "max_connections_per_ip", false, false, false, NULL, "new connections" },
	{ "max_message_bytes", false, false, false, NULL, "the next message" },
	{ "max_frame_bytes", false, false, false, NULL, "the next message" },
	{ "rate_limit", false, false, false, NULL, "the next message" },
	{ "send_queue_max_bytes", false, false, false, NULL, "new connections" },
	{ "send_queue_max_messages", false, false, false, NULL, "new connections" },
	{ "backlog_max_messages", false, false, false, NULL, "the next burst" },
	{ "backlog_max_bytes", false, false, false, NULL, "the next burst" },
	{ "history_retention", false, false, false, NULL, "the next catch-up and pruning" },
	{ "health_db_grace", false, false, false, NULL, "the next /health" },
	{ "stop_notice", false, false, true, NULL, "the next SIGTERM" },
	{ "session_ttl", true, false, false, NULL, NULL },
	{ "fcgi_listen", true, false, false, NULL, NULL },
	{ "fcgi_threads", true, false, false, NULL, NULL },
	{ "max_body_bytes", true, false, false, NULL, NULL },
	{ "api_token_file", true, false, false, NULL, NULL },
	{ "cookie_domain", true, false, false, NULL, NULL },
	{ "metrics_allow", true, false, false, NULL, NULL },
	{ "anon_write_rate", true, false, false, NULL, NULL },
	{ "metrics_token_file", true, false, false, NULL, NULL },
	{ "login_max_failures", true, false, false, NULL, NULL },
	{ "login_window", true, false, false, NULL, NULL },
	{ "www_root", true, false, false, NULL, NULL },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

static const struct reload_key *row_of(const char *key)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (strcmp(table[i].key, key) == 0)
			return &table[i];
	return NULL;
}

struct pass {
	wsp_reload *rl;
	wsp_server *srv;
	const wsp_config *fresh;
	bool log_done;               /* log_level and log_file share one apply */
	int applied;
};

static void one_key(const char *key, void *ud)
{
	struct pass *p = ud;
	const struct reload_key *k = row_of(key);
	char was[160], now[160];
	wsp_error err;

	wsp_config_format(p->rl->cfg, key, was, sizeof(was));
	wsp_config_format(p->fresh, key, now, sizeof(now));
	if (!*was)
		snprintf(was, sizeof(was), "(empty)");
	if (!*now)
		snprintf(now, sizeof(now), "(empty)");
	if (!p->srv && (!k || !k->for_supervisor))
		return;
	if (!k) {
		wsp_warn(NULL, "reload: %s changed (%s -> %s) but needs a restart: still %s", key, was, now, was);
		return;
	}
	wsp_error_init(&err);
	if (k->apply && !(k->apply == apply_log && p->log_done) && k->apply(p->rl, p->srv, p->fresh, &err) < 0) {
		wsp_err(NULL, "reload: %s not changed: %s", key, err.text);
		return;
	}
	if (k->apply == apply_log)
		p->log_done = true;
	if (wsp_config_copy_key(p->rl->cfg, p->fresh, key, &err) < 0) {
		wsp_err(NULL, "reload: %s not changed: %s", key, err.text);
		return;
	}
	p->applied++;
	if (k->unused)
		wsp_info(NULL, "reload: %s changed (not used by wspulsed)", key);
	else
		wsp_info(NULL, "reload: %s %s -> %s (applies to %s)", key, was, now, k->effect);
}

int wsp__reload_run(wsp_reload *rl, wsp_server *srv)
{
	struct pass p = { rl, srv, NULL, false, 0 };
	wsp_config fresh;
	wsp_error err;
	int n;

	wsp_log_reopen();
	wsp_error_init(&err);
	if (wsp_config_init(&fresh) < 0)
		return WSP_ERR_NOMEM;
	if (wsp_config_load(&fresh, rl->path, &err) < 0) {
		wsp_err(NULL, "reload: %s; the running configuration stays", err.text);
		wsp_config_cleanup(&fresh);
		return err.code ? err.code : WSP_ERR_INVALID;
	}
	p.fresh = &fresh;
	n = wsp_config_diff(rl->cfg, &fresh, one_key, &p);
	/* Files whose content may have changed under an unchanged name (when
	 * the name changed, one_key applied the new one already; this second
	 * run finds nothing new). */
	for (size_t i = 0; srv && i < NTABLE; i++) {
		const struct reload_key *k = &table[i];

		if (!k->every_time || !k->apply)
			continue;
		wsp_error_init(&err);
		if (k->apply(rl, srv, rl->cfg, &err) < 0)
			wsp_err(NULL, "reload: %s: %s; the old one stays", k->key, err.text);
	}
	if (srv)
		wsp_info(NULL, "reload: log reopened; %s re-read: %d key%s changed, %d applied", rl->path, n,
			 n == 1 ? "" : "s", p.applied);
	wsp_config_cleanup(&fresh);
	return p.applied;
}
