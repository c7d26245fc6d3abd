/* reload.c - see reload.h. */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reload.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static wsp_app *current;

/* wspulse.fcgi's keys that a reload applies, and wspulsed's (not used here). */
static const char *const live_keys[] = {
	"log_level", "log_file", "secret_file", "api_token_file", "metrics_token_file", "metrics_allow",
	"session_ttl", "max_body_bytes", "max_message_bytes", "login_max_failures", "login_window",
	"stats_interval", "www_root", "anon_write_rate", "trusted_proxies", "cookie_domain",
};
static const char *const daemon_keys[] = {
	"listen", "daemon_id", "workers", "event_loop", "io_uring", "allowed_origins", "modules", "namespace",
	"max_frame_bytes", "rate_limit", "send_queue_max_bytes", "send_queue_max_messages",
	"backlog_max_messages", "backlog_max_bytes",
	"max_connections_per_ip", "max_connections", "ping_interval", "pong_timeout",
	"handshake_timeout", "history_retention", "tls_cert_file", "tls_key_file", "health_db_grace",
};

static bool in(const char *const *list, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

static void app_free(wsp_app *a)
{
	if (!a)
		return;
	wsp_config_cleanup(&a->cfg);
	memset(a, 0, sizeof(*a));   /* the secret and tokens */
	free(a);
}

void wsp_app_install(wsp_app *app)
{
	pthread_mutex_lock(&lock);
	current = app;
	app->retired = false;
	pthread_mutex_unlock(&lock);
}

const wsp_app *wsp_app_acquire(void)
{
	wsp_app *a;

	pthread_mutex_lock(&lock);
	a = current;
	a->refs++;
	pthread_mutex_unlock(&lock);
	return a;
}

void wsp_app_release(const wsp_app *app)
{
	wsp_app *a = (wsp_app *)app;
	bool gone;

	pthread_mutex_lock(&lock);
	gone = --a->refs == 0 && a->retired;
	pthread_mutex_unlock(&lock);
	if (gone)
		app_free(a);
}

struct pass {
	const wsp_config *old;
	wsp_config *fresh;
	int live, restart;
};

static void one_key(const char *key, void *ud)
{
	struct pass *p = ud;
	char was[160], now[160];
	wsp_error err;

	wsp_config_format(p->old, key, was, sizeof(was));
	wsp_config_format(p->fresh, key, now, sizeof(now));
	if (in(daemon_keys, sizeof(daemon_keys) / sizeof(*daemon_keys), key)) {
		wsp_info(NULL, "reload: %s changed (not used by wspulse.fcgi)", key);
		return;
	}
	if (in(live_keys, sizeof(live_keys) / sizeof(*live_keys), key)) {
		wsp_info(NULL, "reload: %s %s -> %s", key, *was ? was : "(empty)", *now ? now : "(empty)");
		p->live++;
		return;
	}
	/* Keep the running value: it changes only with a restart. */
	wsp_error_init(&err);
	if (wsp_config_copy_key(p->fresh, p->old, key, &err) < 0) {
		wsp_err(NULL, "reload: %s: %s", key, err.text);
		return;
	}
	p->restart++;
	wsp_warn(NULL, "reload: %s changed (%s -> %s) but needs a restart: still %s", key,
		 *was ? was : "(empty)", *now ? now : "(empty)", *was ? was : "(empty)");
}

int wsp_app_reload(const char *path)
{
	wsp_app *next = calloc(1, sizeof(*next)), *old;
	struct pass p;
	wsp_error err;
	bool gone;

	wsp_log_reopen();
	if (!next || wsp_config_init(&next->cfg) < 0) {
		free(next);
		wsp_err(NULL, "reload: out of memory");
		return WSP_ERR_NOMEM;
	}
	wsp_error_init(&err);
	if (wsp_config_load(&next->cfg, path, &err) < 0) {
		wsp_err(NULL, "reload: %s; the running configuration stays", err.text);
		app_free(next);
		return err.code ? err.code : WSP_ERR_INVALID;
	}
	/* Only the main thread reloads: reading current->cfg needs no lock. */
	p = (struct pass){ &current->cfg, &next->cfg, 0, 0 };
	wsp_config_diff(&current->cfg, &next->cfg, one_key, &p);
	wsp_error_init(&err);
	if (wsp_app_load(next, &err) < 0) {
		wsp_err(NULL, "reload: %s; the running configuration stays", err.text);
		app_free(next);
		return err.code ? err.code : WSP_ERR_INVALID;
	}
	if (wsp_log_open(NULL, next->cfg.log_level, next->cfg.log_file) < 0)
		wsp_err(NULL, "reload: cannot open log file %s", next->cfg.log_file);
	if (!wsp_ct_equal(next->secret.key, next->secret.len, current->secret.key, current->secret.len))
		wsp_info(NULL, "reload: the session secret is new: sessions signed with the old one are refused from now on");
	pthread_mutex_lock(&lock);
	old = current;
	current = next;
	old->retired = true;
	gone = old->refs == 0;
	pthread_mutex_unlock(&lock);
	if (gone)
		app_free(old);
	wsp_info(NULL, "reload: log reopened; %s re-read: %d key%s applied, %d need%s a restart", path,
		 p.live, p.live == 1 ? "" : "s", p.restart, p.restart == 1 ? "s" : "");
	return p.live;
}

void wsp_app_shutdown(void)
{
	pthread_mutex_lock(&lock);
	app_free(current);
	current = NULL;
	pthread_mutex_unlock(&lock);
}
