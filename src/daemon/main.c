/* main.c - wspulsed: command line, configuration, signals, the loop.
 *
 * One process, one thread, one event loop (epoll through libev, or lws's
 * poll loop; proto.c): sockets, timers and the PostgreSQL connection (see
 * bus.h) are all serviced by it. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "daemon/access.h"
#include "daemon/builtin.h"
#include "daemon/cursor.h"
#include "daemon/history.h"
#include "daemon/lwscheck.h"
#include "daemon/memtrim.h"
#include "daemon/modules.h"
#include "daemon/presence.h"
#include "daemon/proto.h"
#include "daemon/prune.h"
#include "daemon/relay.h"
#include "daemon/reload.h"
#include "daemon/server.h"
#include "daemon/sessions.h"
#include "daemon/shutdown.h"
#include "daemon/snapshot.h"
#include "daemon/supervisor.h"
#include "daemon/tls.h"
#include "db.h"
#include "log.h"

static wsp_server *srv;

static void on_signal(int sig)
{
	if (!srv)
		return;
	if (sig == SIGHUP) {
		srv->sig_hup = 1;
	} else {
		if (sig == SIGUSR2)
			wsp_worker_restarting = 1;   /* drain with 1012 */
		srv->sig_term = 1;
	}
	if (srv->ctx)
		lws_cancel_service(srv->ctx);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: wspulsed [-c FILE] [--check-config [--offline]] [--version] [--help]\n"
		   "The wspulse WebSocket daemon.\n\n"
		   "  -c, --config FILE   configuration file (default %s)\n"
		   "      --check-config  read the configuration, load the modules, check the secret\n"
		   "                      files and reach the database; print the configuration and exit\n"
		   "      --offline       with --check-config: do not connect to the database\n"
		   "  -V, --version       print the version and exit\n"
		   "  -h, --help          print this help and exit\n\n"
		   "Signals: SIGTERM/SIGINT close every socket with 1001 and exit; SIGUSR2 closes them\n"
		   "with 1012 (service restart) and exits; SIGHUP re-reads the configuration (what can\n"
		   "change without dropping a socket is applied, the rest logged as needing a restart),\n"
		   "re-reads the TLS certificate and key, and reopens the log.  With workers > 1 the\n"
		   "supervisor forwards SIGTERM/SIGINT/SIGHUP and SIGUSR2 is a rolling restart.\n\n"
		   "Configuration keys:\n",
		WSP_DEFAULT_CONFIG);
	wsp_config_describe(f);
}

/* Stop what runs over the database, the bus last (idempotent). */
static void stop_db_side(wsp_server *s)
{
	wsp__snapshot_stop(s);
	wsp__prune_stop(s);
	wsp__presence_stop(s);
	wsp__history_stop(s);
	wsp__relay_stop(s);
}

/* The supervisor's SIGHUP: its own log settings (the workers apply the rest). */
static void supervisor_hup(void *arg)
{
	wsp__reload_run(arg, NULL);
}

/* --check-config beyond parsing: the API token file (wspulse.fcgi's, but a
 * deployment is checked as a whole) and, unless offline, the database with
 * the schema in place.  Prints the reason and returns -1 on a failure. */
static int check_config(const wsp_config *cfg, int offline)
{
	static const char probe[] = "SELECT 1 FROM wsp_outbox, wsp_sessions, wsp_daemon_stats LIMIT 0";
	wsp_error err;
	wsp_db *db;
	wsp_db_res *r;
	char where[256];

	wsp_error_init(&err);
	if (*cfg->api_token_file) {
		FILE *f = fopen(cfg->api_token_file, "r");
		struct stat st;

		if (!f) {
			fprintf(stderr, "wspulsed: api_token_file %s: %s\n", cfg->api_token_file, strerror(errno));
			return -1;
		}
		if (fstat(fileno(f), &st) < 0 ||
		    wsp_secret_check_stat(&st, cfg->api_token_file, "api_token_file", &err) < 0) {
			fclose(f);
			fprintf(stderr, "wspulsed: %s\n", err.text[0] ? err.text : strerror(errno));
			return -1;
		}
		fclose(f);
	}
	if (offline)
		return 0;
	wsp_db_describe(cfg->database, where, sizeof(where));
	db = wsp_db_connect(cfg->database, &err);
	if (!db) {
		fprintf(stderr, "wspulsed: database: %s (--offline skips this check)\n", err.text);
		return -1;
	}
	r = wsp_db_query(db, probe, 0, NULL, &err);
	if (!r) {
		fprintf(stderr, "wspulsed: database %s: %s (is the schema in place? wspulse-admin init-db)\n",
			where, err.text);
		wsp_db_close(db);
		return -1;
	}
	wsp_db_res_free(r);
	wsp_db_close(db);
	return 0;
}

static void lws_logger(int level, const char *line)
{
	size_t n = strlen(line);
	char buf[512];

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	snprintf(buf, sizeof(buf), "%.*s", (int)n, line);
	wsp_log(level == LLL_ERR ? WSP_LOG_ERROR : WSP_LOG_WARN, "lws", "%s", buf);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "offline", no_argument, NULL, 'O' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = WSP_DEFAULT_CONFIG;
	int check_only = 0, offline = 0, opt, rc = 1, nworkers;
	wsp_reload rl;
	wsp_config cfg;
	wsp_error err;
	wsp_secret secret;
	static wsp_conntoken_key token_key;
	struct sigaction sa;
	sigset_t hup;

	while ((opt = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'C': check_only = 1; break;
		case 'O': offline = 1; break;
		case 'V': printf("wspulsed %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	wsp_error_init(&err);
	if (wsp_config_init(&cfg) < 0) {
		fprintf(stderr, "wspulsed: out of memory\n");
		return 1;
	}
	/* Every failure below frees everything, so a sanitizer run sees a
	 * clean exit on the error paths too. */
	if (wsp_config_load(&cfg, path, &err) < 0) {
		fprintf(stderr, "wspulsed: %s\n", err.text);
		goto out;
	}
	if (wsp_log_open("wspulsed", cfg.log_level, check_only ? NULL : cfg.log_file) < 0) {
		fprintf(stderr, "wspulsed: cannot open log file %s\n", cfg.log_file);
		goto out;
	}
	if (wsp_secret_load(&secret, cfg.secret_file, &err) < 0) {
		fprintf(stderr, "wspulsed: %s\n", err.text);
		goto out;
	}
	/* A bad certificate or key stops the daemon here, naming the file,
	 * before any worker is started (tls.h). */
	if (wsp_tls_check(&cfg, &err) < 0) {
		fprintf(stderr, "wspulsed: %s: %s\n", path, err.text);
		goto out;
	}
	for (int i = 0; i < cfg.trusted_proxies.n; i++)
		if (!wsp_cidr_valid(cfg.trusted_proxies.v[i])) {
			fprintf(stderr, "wspulsed: %s: trusted_proxies: '%s' is not an IP address, a CIDR network or 'unix'\n", path,
				cfg.trusted_proxies.v[i]);
			goto out;
		}
	if (cfg.token_secret_file[0] &&
	    wsp_conntoken_key_load(&token_key, cfg.token_secret_file, &err) < 0) {
		fprintf(stderr, "wspulsed: %s\n", err.text);
		goto out;
	}
	rl = (wsp_reload){ path, &cfg, &secret, &token_key };
	if (check_only && check_config(&cfg, offline) < 0)
		goto out;
	nworkers = wsp_workers_count(&cfg, &err);
	if (nworkers < 0) {
		fprintf(stderr, "wspulsed: %s: %s\n", path, err.text);
		goto out;
	}
	/* Several workers: the supervisor stays in wsp_workers_run until the
	 * end; each forked worker comes back here and carries on as a whole
	 * daemon on the shared listening socket. */
	if (!check_only && nworkers > 1) {
		int r;

		wsp_workers_on_hup(supervisor_hup, &rl);
		r = wsp_workers_run(&cfg, nworkers, wsp__relay_channels(), &rc, &err);

		if (r < 0) {
			fprintf(stderr, "wspulsed: %s\n", err.text);
			rc = 1;
			goto out;
		}
		if (r == 1)
			goto out;
	}
	srv = wsp__server_new(&cfg, &secret, &err);
	if (srv && !(srv->cursor = wsp__cursor_new())) {
		fprintf(stderr, "wspulsed: out of memory\n");
		goto out;
	}
	if (srv && token_key.len)
		srv->token_key = &token_key;
	if (srv && wsp_worker_index()) {
		char base[96];

		if (*cfg.daemon_id)
			snprintf(base, sizeof(base), "%.90s", cfg.daemon_id);
		else
			snprintf(base, sizeof(base), "%.50s:%.40s", srv->host,
				 strncmp(cfg.listen, "unix:", 5) == 0 ? cfg.listen + 5
				 : strrchr(cfg.listen, ':') ? strrchr(cfg.listen, ':') + 1 : cfg.listen);
		snprintf(srv->id, sizeof(srv->id), "%s/w%d", base, wsp_worker_index());
	}
	if (!srv || wsp__builtin_init(srv, cfg.demo, (unsigned)cfg.stats_interval * 1000) < 0 || wsp__server_declare_namespaces(srv, &err) < 0 ||
	    wsp__modules_load(srv, &err) < 0) {
		fprintf(stderr, "wspulsed: %s\n", err.text[0] ? err.text : "cannot register the built-in namespaces");
		goto out;
	}
	srv->registering = false;
	srv->reload = &rl;
	if (check_only) {
		wsp_config_dump(&cfg, stdout);
		rc = 0;
		goto out;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_logger);
	if (wsp__lws_start(srv, wsp__shutdown_signals, &err) < 0) {
		fprintf(stderr, "wspulsed: %s\n", err.text);
		goto out;
	}
	(void)wsp__lwscheck();   /* logs a version mismatch or a lost interposition */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A worker starts with SIGHUP blocked (supervisor.h): one that came
	 * meanwhile is delivered now, to on_signal, as a reload. */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &hup, NULL);
	/* The database side: the bus and the broadcasts over it, then what
	 * runs on timers beside it. */
	if (wsp__relay_start(srv) < 0 || wsp__snapshot_start(srv) < 0 || wsp__sessions_start(srv) < 0 ||
	    wsp__memtrim_start(srv) < 0 || wsp__prune_start(srv) < 0 || wsp__presence_start(srv) < 0) {
		fprintf(stderr, "wspulsed: out of memory\n");
		goto out;
	}
	wsp_info(NULL, "%s listening on %s (%d namespaces)", srv->id, cfg.listen, srv->nns);
	wsp__lws_run(srv);
	stop_db_side(srv);
	wsp__lws_destroy(srv);
	wsp_info(NULL, "stopped");
	rc = 0;
out:
	if (srv) {
		stop_db_side(srv);
		wsp__lws_destroy(srv);
		wsp__presence_free(srv);
		wsp__cursor_free(srv->cursor);
	}
	wsp__server_free(srv);
	srv = NULL;
	wsp_config_cleanup(&cfg);
	return rc;
}
