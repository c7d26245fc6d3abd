/* server.c - the server object, namespaces, the module API and stats. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "daemon/daemon.h"
#include "daemon/envelope.h"
#include "daemon/reload.h"
#include "daemon/workers.h"
#include "json.h"
#include "log.h"
#include "notify.h"

long long wsp__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long wsp__mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	wsp__presence_free(srv);
	for (int i = 0; i < srv->nns; i++) {
		wsp_namespace *ns = srv->nss[i];

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
	wsp_strmap_cleanup(&srv->revoked);
	json_decref(srv->batch);
	json_decref(srv->cluster);
	wsp_free(srv->fetch_ids);
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
 * moment.  Their messages are still counted in the stats. */
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

	if (rest)
		wsp_counters_rest_message(&ns->counters, now / 1000);
	else
		wsp_counters_message(&ns->counters, now / 1000);
	ns->srv->total_messages++;
	if (!rest && (!(username && *username) || ns->srv->anon_ctx)) {
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

bool wsp__client_is(const wsp_client *c, const char *to)
{
	if (strncmp(to, WSP_TO_USER, sizeof(WSP_TO_USER) - 1) == 0)
		return c->user && strcmp(c->user->name, to + sizeof(WSP_TO_USER) - 1) == 0;
	return strcmp(c->id, to) == 0;
}

void wsp__ns_send(wsp_namespace *ns, wsp_msg *m, const char *client_id, long long id)
{
	wsp_client *c, *next;

	for (c = ns->clients; c; c = next) {
		next = c->next;
		if (client_id && !wsp__client_is(c, client_id))
			continue;
		/* (A row for a clientId is never in a page; one for a user is.) */
		if (id >= 0 && c->cu &&
		    wsp__history_live(c, m, id, client_id && strncmp(client_id, WSP_TO_USER,
								     sizeof(WSP_TO_USER) - 1) != 0))
			continue;
		wsp__client_push(c, m);
	}
}

/* Local delivery of a module message; `data` stolen. */
static int deliver_local(wsp_namespace *ns, json_t *data, const char *username,
			 const char *client_id, bool count)
{
	wsp_msg *m;

	if (!ns || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	if (wsp_envelope_stamp(data, username) < 0 || !(m = wsp_envelope_success(data, -1))) {
		json_decref(data);
		return WSP_ERR_NOMEM;
	}
	if (count)
		wsp__ns_count(ns, wsp_envelope_type(data), username, data);
	wsp__ns_send(ns, m, client_id, -1);
	wsp_msg_unref(m);
	json_decref(data);
	return 0;
}

int wsp_broadcast(wsp_namespace *ns, json_t *data, const char *username)
{
	if (!ns || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	if (ns->opts.history)
		return wsp__relay_history(ns, data, username, NULL);
	wsp__relay_broadcast(ns, data, username, NULL);
	return deliver_local(ns, data, username, NULL, true);
}

int wsp_broadcast_local(wsp_namespace *ns, json_t *data, const char *username)
{
	return deliver_local(ns, data, username, NULL, false);
}

int wsp_send_to_client(wsp_namespace *ns, const char *client_id, json_t *data)
{
	if (!ns || !client_id || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	if (ns->opts.history)
		return wsp__relay_history(ns, data, "", client_id);
	wsp__relay_broadcast(ns, data, "", client_id);
	return deliver_local(ns, data, "", client_id, false);
}

int wsp_send_to_user(wsp_namespace *ns, const char *username, json_t *data)
{
	char to[sizeof(WSP_TO_USER) + WSP_USERNAME_MAX];
	size_t n = username ? strlen(username) : 0;

	if (!ns || !n || n > WSP_USERNAME_MAX || strchr(username, ':') || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	snprintf(to, sizeof(to), WSP_TO_USER "%s", username);
	if (ns->opts.history)
		return wsp__relay_history(ns, data, "", to);
	wsp__relay_broadcast(ns, data, "", to);
	return deliver_local(ns, data, "", to, false);
}

int wsp_client_send(wsp_client *c, json_t *data)
{
	wsp_msg *m;
	int rc;

	if (!c || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	if (wsp_envelope_stamp(data, "") < 0 || !(m = wsp_envelope_success(data, -1))) {
		json_decref(data);
		return WSP_ERR_NOMEM;
	}
	rc = wsp__client_push(c, m);
	wsp_msg_unref(m);
	json_decref(data);
	return rc;
}

int wsp_client_send_error(wsp_client *c, int code, const char *text)
{
	wsp_msg *m = wsp_envelope_error(code, text, NULL);
	int rc;

	if (!m)
		return WSP_ERR_NOMEM;
	rc = wsp__client_push(c, m);
	wsp_msg_unref(m);
	return rc;
}

const char *wsp_client_id(const wsp_client *c) { return c->id; }
wsp_namespace *wsp_client_namespace(const wsp_client *c) { return c->ns; }
const wsp_user *wsp_client_user(const wsp_client *c) { return c->user; }
const char *wsp_namespace_path(const wsp_namespace *ns) { return ns->path; }
int wsp_namespace_client_count(const wsp_namespace *ns) { return ns->nclients; }
const char *wsp_user_name(const wsp_user *u) { return u ? u->name : ""; }
bool wsp_user_has_role(const wsp_user *u, const char *role) { return u && role && wsp_roles_has(u->roles, role); }
const char *wsp_server_id(const wsp_server *srv) { return srv->id; }
void wsp_client_set_data(wsp_client *c, void *p) { c->data = p; }
void *wsp_client_get_data(const wsp_client *c) { return c->data; }

static json_t *ns_json(wsp_namespace *ns, long long now, bool snapshot)
{
	wsp_strmap users;
	long active;

	wsp_strmap_init(&users);
	for (wsp_client *c = ns->clients; c; c = c->next)
		if (c->user)
			wsp_strmap_set(&users, c->user->name, 1);
	active = (long)wsp_strmap_count(&users);
	wsp_strmap_cleanup(&users);
	return (snapshot ? wsp_stats_ns_snapshot_json : wsp_stats_ns_json)(ns->path, ns->nclients, active,
									&ns->counters, now);
}

json_t *wsp_namespace_stats(wsp_namespace *ns)
{
	return ns ? ns_json(ns, wsp__now_ms() / 1000, false) : NULL;
}

json_t *wsp__local_stats(wsp_server *srv, bool snapshot)
{
	long long now = wsp__now_ms(), qbytes = 0;
	json_t *nss = json_array(), *st;

	for (int i = 0; i < srv->nns; i++) {
		json_array_append_new(nss, ns_json(srv->nss[i], now / 1000, snapshot));
		for (wsp_client *c = srv->nss[i]->clients; snapshot && c; c = c->next)
			qbytes += (long long)c->q.bytes;
	}
	/* "workers": how many worker processes this row's daemon runs (the
	 * merge shows it per row; each worker writes its own row). */
	/* uptime in milliseconds, as jPulse's getStats() (its page formats ms). */
	st = json_pack("{s:I, s:I, s:o, s:o, s:i}", "uptime", (json_int_t)(now - srv->started_ms),
			 "totalMessages", (json_int_t)srv->total_messages, "namespaces", nss,
			 "activityLog", wsp_activity_json(&srv->activity, now, snapshot), "workers",
			 wsp_worker_total() > 0 ? wsp_worker_total() : 1);
	/* The operator's counters ride along in the row (GET /api/1/websocket/metrics). */
	if (st && snapshot)
		json_object_set_new(st, "metrics", wsp_metrics_json(&srv->metrics, qbytes));
	return st;
}

json_t *wsp_server_stats(wsp_server *srv)
{
	long long now = wsp__now_ms();
	json_t *st;
	char iso[40];

	if (srv->cluster && now - srv->cluster_ms < 2000LL * srv->cfg->stats_interval + 1000)
		return json_deep_copy(srv->cluster);
	st = wsp__local_stats(srv, false);   /* this process alone: every message once */
	wsp_iso8601(now, iso, sizeof(iso));
	json_object_set_new(st, "daemons",
			    json_pack("[{s:s, s:s, s:i, s:i, s:I, s:b, s:s}]", "id", srv->id, "host",
				      srv->host, "pid", (int)getpid(), "workers",
				      wsp_worker_total() > 0 ? wsp_worker_total() : 1, "uptime",
				      json_integer_value(json_object_get(st, "uptime")), "up", 1,
				      "updatedAt", iso));
	return st;
}

void wsp__refused(wsp_server *srv, const char *ns, int status, const char *why, const char *ip)
{
	srv->metrics.refused[wsp_metrics_refusal(why)]++;
	if (wsp_log_limit_ok(&srv->refuse_rl, 10, WSP_LOG_WARN, "upgrades refused"))
		wsp_warn(ns, "upgrade refused: %d %s (%s)", status, why, ip);
}

void wsp__note(wsp_server *srv, const char *ns, const char *what, const char *ip)
{
	if (wsp_log_limit_ok(&srv->note_rl, 10, WSP_LOG_WARN, "upgrade notes"))
		wsp_warn(ns, "upgrade from %s: %s", ip, what);
}

void wsp__closing_warn(wsp_client *c, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (!wsp_log_limit_ok(&c->srv->close_rl, 10, WSP_LOG_WARN, "sockets closed by the daemon"))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	wsp_warn(c->ns->path, "client %s (%s): %s", c->id, c->ip, text);
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

/* Timers registered before the context existed start now. */
void wsp__server_start_timers(wsp_server *srv);
void wsp__server_start_timers(wsp_server *srv)
{
	for (wsp_timer *t = srv->timers; t; t = t->next)
		lws_sul_schedule(srv->ctx, 0, &t->sul, timer_cb, (lws_usec_t)t->ms * 1000);
}

static void stop_check(lws_sorted_usec_list_t *sul)
{
	wsp_server *srv = lws_container_of(sul, wsp_server, stop_sul);

	if (srv->nclients == 0 || wsp__mono_ms() >= srv->stop_deadline_ms) {
		wsp__lws_break(srv);
		return;
	}
	lws_sul_schedule(srv->ctx, 0, &srv->stop_sul, stop_check, 20 * 1000);
}

void wsp__server_stop(wsp_server *srv)
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
	for (wsp_timer *t = srv->timers; t; t = t->next)
		lws_sul_cancel(&t->sul);
	srv->stop_deadline_ms = wsp__mono_ms() + 1500;
	lws_sul_schedule(srv->ctx, 0, &srv->stop_sul, stop_check, 1000);
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

static void notice_over(lws_sorted_usec_list_t *sul)
{
	wsp__server_stop(lws_container_of(sul, wsp_server, notice_sul));
}

void wsp__server_signals(wsp_server *srv)
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
		wsp__server_stop(srv);
	} else if (!srv->notice_end_ms) {
		srv->notice_end_ms = wsp__mono_ms() + srv->cfg->stop_notice * 1000LL;
		wsp_info(NULL, "stopping in %ld s (stop_notice): /health answers 503 and upgrades are refused until then",
			 srv->cfg->stop_notice);
		lws_sul_schedule(srv->ctx, 0, &srv->notice_sul, notice_over,
				 (lws_usec_t)srv->cfg->stop_notice * LWS_US_PER_SEC);
	}
}
