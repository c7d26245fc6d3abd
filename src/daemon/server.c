/* server.c - see server.h. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "daemon/clock.h"
#include "daemon/server.h"
#include "json.h"
#include "log.h"

wsp_server *wsp__server_new(const wsp_config *cfg, const wsp_secret *secret, wsp_error *err)
{
	wsp_server *srv = wsp_calloc(1, sizeof(*srv));

	if (!srv) {
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		return NULL;
	}
	srv->cfg = cfg;
	srv->secret = secret;
	srv->started_ms = wsp__now_ms();
	if (gethostname(srv->host, sizeof(srv->host)) < 0)
		snprintf(srv->host, sizeof(srv->host), "localhost");
	srv->host[sizeof(srv->host) - 1] = '\0';
	if (*cfg->daemon_id)
		snprintf(srv->id, sizeof(srv->id), "%s", cfg->daemon_id);
	else
		snprintf(srv->id, sizeof(srv->id), "%.64s:%.40s:%d", srv->host,
			 strncmp(cfg->listen, "unix:", 5) == 0 ? cfg->listen + 5
			 : strrchr(cfg->listen, ':') ? strrchr(cfg->listen, ':') + 1 : cfg->listen,
			 (int)getpid());
	wsp_strmap_init(&srv->per_ip);
	wsp_strmap_init(&srv->per_peer);
	wsp_strmap_init(&srv->revoked);
	if (wsp_activity_init(&srv->activity, 500) < 0) {
		wsp_free(srv);
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		return NULL;
	}
	srv->registering = true;
	return srv;
}

void wsp__server_free(wsp_server *srv)
{
	if (!srv)
		return;
	for (int i = 0; i < srv->nns; i++) {
		wsp_namespace *ns = srv->nss[i];

		wsp_backlog_cleanup(&ns->backlog);
		wsp_free(ns->path);
		wsp_strv_free(ns->roles);
		wsp_free(ns);
	}
	wsp_free(srv->nss);
	wsp_nsreg_cleanup(&srv->reg);
	while (srv->timers) {
		wsp_timer *t = srv->timers;

		srv->timers = t->next;
		wsp_free(t);
	}
	wsp_activity_cleanup(&srv->activity);
	wsp_strmap_cleanup(&srv->per_ip);
	wsp_strmap_cleanup(&srv->per_peer);
	wsp_strmap_cleanup(&srv->revoked);
	wsp_free(srv);
}

static wsp_namespace *register_ns(wsp_server *srv, const char *path, const wsp_namespace_opts *opts,
				  wsp_error *err)
{
	wsp_namespace *ns, **v;

	if (!srv->registering) {
		wsp_error_set(err, WSP_ERR_INVALID, "namespaces can only be registered at start-up");
		return NULL;
	}
	ns = wsp_calloc(1, sizeof(*ns));
	if (!ns || !(ns->path = wsp_strdup(path ? path : ""))) {
		wsp_free(ns);
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		return NULL;
	}
	/* A version-1 module's options end before on_upgrade. */
	if (opts && srv->module_api == 1)
		memcpy(&ns->opts, opts, offsetof(wsp_namespace_opts, on_upgrade));
	else if (opts)
		ns->opts = *opts;
	if (opts && opts->require_roles && opts->require_roles[0]) {
		ns->roles = wsp_strv_dup(opts->require_roles);
		if (!ns->roles)
			goto nomem;
		ns->opts.require_auth = true;
	}
	ns->opts.require_roles = (const char *const *)ns->roles;
	v = wsp_realloc(srv->nss, sizeof(*v) * (size_t)(srv->nns + 1));
	if (!v)
		goto nomem;
	srv->nss = v;
	if (wsp_nsreg_add(&srv->reg, ns->path, ns, err) < 0) {
		wsp_strv_free(ns->roles);
		wsp_free(ns->path);
		wsp_free(ns);
		return NULL;
	}
	ns->srv = srv;
	srv->nss[srv->nns++] = ns;
	wsp_debug(ns->path, "namespace registered (auth %s%s%s)", ns->opts.require_auth ? "on" : "off",
		  ns->opts.history ? ", history" : "", ns->roles ? ", roles" : "");
	return ns;
nomem:
	wsp_strv_free(ns->roles);
	wsp_free(ns->path);
	wsp_free(ns);
	wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	return NULL;
}

wsp_namespace *wsp_register_namespace(wsp_server *srv, const char *path,
				      const wsp_namespace_opts *opts)
{
	wsp_error err;
	wsp_namespace *ns;

	wsp_error_init(&err);
	ns = register_ns(srv, path, opts, &err);
	if (!ns)
		wsp_err(NULL, "cannot register namespace: %s", err.text);
	return ns;
}

int wsp__server_declare_namespaces(wsp_server *srv, wsp_error *err)
{
	for (int i = 0; i < srv->cfg->namespaces.n; i++) {
		wsp_nsdef def;
		wsp_namespace_opts o;
		int rc = wsp_nsdef_parse(srv->cfg->namespaces.v[i], &def, err);

		if (rc < 0)
			return rc;
		memset(&o, 0, sizeof(o));
		o.require_auth = def.require_auth;
		o.history = def.history;
		o.require_roles = (const char *const *)def.roles;
		if (!register_ns(srv, def.path, &o, err)) {
			wsp_nsdef_cleanup(&def);
			return err ? err->code : WSP_ERR_INVALID;
		}
		wsp_info(def.path, "namespace declared in the config");
		wsp_nsdef_cleanup(&def);
	}
	return 0;
}

/* Entries without a username (anonymous clients, and what their messages
 * cause: srv->anon_ctx, whatever name a handler gives them) that
 * one namespace may add to the activity log per second: the log keeps 500
 * entries for the admin page, and anonymous sockets within every other
 * limit could otherwise replace all of them with their own text in a
 * moment.  However long they keep at it, they hold at most a fifth of the
 * log (stats.h, WSP_ACTIVITY_ANON_SHARE).  Their messages are still counted
 * in the stats. */
#define ANON_ACTIVITY_PER_SEC 5

/* Count one message for stats and the activity log (pings never get here);
 * rest: a REST broadcast, outbox row outbox_id (stats.h: every worker counts
 * those), else outbox_id is 0. */
static void count(wsp_namespace *ns, const char *type, const char *username, json_t *data,
		  bool rest, long long outbox_id, bool received)
{
	long long now = wsp__now_ms();
	char text[WSP_ACTIVITY_TEXT];
	char *s;
	bool anon;

	if (rest)
		wsp_counters_rest_message(&ns->counters, now / 1000);
	else
		wsp_counters_message(&ns->counters, now / 1000);
	ns->srv->total_messages++;
	anon = !rest && (!(username && *username) || ns->srv->anon_ctx);
	if (anon) {
		if (ns->anon_sec != now / 1000) {
			ns->anon_sec = now / 1000;
			ns->anon_n = 0;
		}
		if (++ns->anon_n > ANON_ACTIVITY_PER_SEC)
			return;
	}
	s = data ? wsp_json_dump(data, NULL) : NULL;
	snprintf(text, sizeof(text), "%s", s ? s : "");
	wsp_free(s);
	if (anon)
		wsp_activity_add_anon(&ns->srv->activity, now, ns->path, received,
				      type && *type ? type : "message", username ? username : "", text);
	else
		wsp_activity_add(&ns->srv->activity, now, outbox_id, ns->path, received,
				 type && *type ? type : "message", username ? username : "", text);
}

void wsp__ns_count(wsp_namespace *ns, const char *type, const char *username, json_t *data)
{
	count(ns, type, username, data, false, 0, false);
}

void wsp__ns_count_received(wsp_namespace *ns, const char *type, const char *username, json_t *data)
{
	count(ns, type, username, data, false, 0, true);
}

void wsp__ns_count_rest(wsp_namespace *ns, long long outbox_id, const char *type,
			const char *username, json_t *data)
{
	count(ns, type, username, data, true, outbox_id, false);
}

void wsp__ns_tally_rest(wsp_namespace *ns)
{
	wsp_counters_rest_message(&ns->counters, wsp__now_ms() / 1000);
	ns->srv->total_messages++;
}

const char *wsp_namespace_path(const wsp_namespace *ns) { return ns->path; }
int wsp_namespace_client_count(const wsp_namespace *ns) { return ns->nclients; }
const char *wsp_user_name(const wsp_user *u) { return u ? u->name : ""; }
bool wsp_user_has_role(const wsp_user *u, const char *role) { return u && role && wsp_roles_has(u->roles, role); }
const char *wsp_server_id(const wsp_server *srv) { return srv->id; }

void wsp__refused(wsp_server *srv, const char *ns, int status, enum wsp_refusal refusal, const char *why,
		  const char *ip)
{
	srv->metrics.refused[refusal < WSP_REFUSED_N ? refusal : WSP_REFUSED_OTHER]++;
	if (wsp_log_limit_ok(&srv->refuse_rl, 10, WSP_LOG_WARN, "upgrades refused"))
		wsp_warn(ns, "upgrade refused: %d %s (%s)", status, why, ip);
}

void wsp__note(wsp_server *srv, const char *ns, const char *what, const char *ip)
{
	if (wsp_log_limit_ok(&srv->note_rl, 10, WSP_LOG_WARN, "upgrade notes"))
		wsp_warn(ns, "upgrade from %s: %s", ip, what);
}

static void timer_cb(lws_sorted_usec_list_t *sul)
{
	wsp_timer *t = lws_container_of(sul, wsp_timer, sul);

	if (t->srv->stopping)
		return;
	t->fn(t->srv, t->arg);
	lws_sul_schedule(t->srv->ctx, 0, &t->sul, timer_cb, (lws_usec_t)t->ms * 1000);
}

int wsp_server_every(wsp_server *srv, unsigned ms, void (*fn)(wsp_server *, void *), void *arg)
{
	wsp_timer *t;

	if (!srv || !fn || !ms)
		return WSP_ERR_INVALID;
	t = wsp_calloc(1, sizeof(*t));
	if (!t)
		return WSP_ERR_NOMEM;
	t->srv = srv;
	t->ms = ms;
	t->fn = fn;
	t->arg = arg;
	t->next = srv->timers;
	srv->timers = t;
	if (srv->ctx)
		lws_sul_schedule(srv->ctx, 0, &t->sul, timer_cb, (lws_usec_t)ms * 1000);
	return 0;
}

void wsp__server_start_timers(wsp_server *srv)
{
	for (wsp_timer *t = srv->timers; t; t = t->next)
		lws_sul_schedule(srv->ctx, 0, &t->sul, timer_cb, (lws_usec_t)t->ms * 1000);
}

void wsp__server_stop_timers(wsp_server *srv)
{
	for (wsp_timer *t = srv->timers; t; t = t->next)
		lws_sul_cancel(&t->sul);
}

int wsp__server_health(wsp_server *srv, char *buf, size_t len)
{
	long long down = srv->bus_down_since_ms ? wsp__mono_ms() - srv->bus_down_since_ms : 0;

	/* stop_notice running: the sockets are still served. */
	if (srv->notice_end_ms && !srv->stopping) {
		long long left = srv->notice_end_ms - wsp__mono_ms();

		left = left > 0 ? (left + 999) / 1000 : 0;
		snprintf(buf, len, "{\"success\":false,\"error\":\"stopping: closing its sockets in %lld s\",\"code\":503,"
			 "\"data\":{\"status\":\"stopping\",\"program\":\"wspulsed\","
			 "\"reason\":\"stopping: closing its sockets in %lld s\"}}", left, left);
		return 503;
	}
	/* sig_term: told to stop, even if the loop has not begun the drain
	 * yet (the signal and this request arrived in one wake-up). */
	if (srv->stopping || srv->sig_term) {
		snprintf(buf, len, "{\"success\":false,\"error\":\"draining: closing its sockets\",\"code\":503,"
			 "\"data\":{\"status\":\"stopping\",\"program\":\"wspulsed\","
			 "\"reason\":\"draining: closing its sockets\"}}");
		return 503;
	}
	if (srv->bus_down_since_ms && down > srv->cfg->health_db_grace * 1000LL) {
		snprintf(buf, len, "{\"success\":false,\"error\":\"PostgreSQL unreachable for %lld s\",\"code\":503,"
			 "\"data\":{\"status\":\"database-down\",\"program\":\"wspulsed\","
			 "\"reason\":\"PostgreSQL unreachable for %lld s\",\"databaseDownMs\":%lld}}",
			 down / 1000, down / 1000, down);
		return 503;
	}
	snprintf(buf, len, "{\"success\":true,\"data\":{\"status\":\"ok\",\"program\":\"wspulsed\","
		 "\"database\":\"%s\"}}", srv->bus_down_since_ms ? "down" : "up");
	return 200;
}

