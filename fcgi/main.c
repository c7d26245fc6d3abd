/* main.c - wspulse.fcgi: command line, listening socket, worker threads.
 *
 * FOUNDATION SKELETON: answers GET /api/1/health (with a database check) and
 * 404 JSON for everything else.  The REST side (router, auth, hello-todo,
 * stats, admin page, publish) replaces handle_request.
 *
 * Sockets: with --listen ADDR (or fcgi_listen in the config) it opens its own
 * listening socket; otherwise it uses the one on stdin, as spawn-fcgi and
 * Apache mod_fcgid pass it. */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "conf.h"
#include "db.h"
#include "log.h"

static wsp_config cfg;
static int listen_fd;

static void reply(FCGX_Request *rq, int status, const char *body)
{
	FCGX_FPrintF(rq->out, "Status: %d\r\nContent-Type: application/json\r\n"
			      "Cache-Control: no-store\r\n\r\n%s", status, body);
}

static void handle_request(FCGX_Request *rq, wsp_db **db)
{
	const char *ruri = FCGX_GetParam("REQUEST_URI", rq->envp);
	char uri[1024];
	wsp_error err;

	/* REQUEST_URI is set by nginx, Apache mod_proxy_fcgi and mod_fcgid. */
	snprintf(uri, sizeof(uri), "%.*s", ruri ? (int)strcspn(ruri, "?") : 0, ruri ? ruri : "");
	if (strcmp(uri, "/api/1/health") == 0) {
		wsp_error_init(&err);
		if (!*db)
			*db = wsp_db_connect(cfg.database, &err);
		if (*db && wsp_db_exec(*db, "SELECT 1", 0, NULL, &err) == 0) {
			reply(rq, 200, "{\"success\":true,\"data\":{\"status\":\"ok\",\"program\":\"wspulse.fcgi\",\"database\":\"ok\"}}");
		} else {
			wsp_err(NULL, "health: %s", err.text);
			reply(rq, 503, "{\"success\":false,\"error\":\"database unavailable\",\"code\":503,\"path\":\"/api/1/health\"}");
		}
		return;
	}
	reply(rq, 404, "{\"success\":false,\"error\":\"not found\",\"code\":404}");
}

static void *worker(void *arg)
{
	FCGX_Request rq;
	wsp_db *db = NULL;

	(void)arg;
	FCGX_InitRequest(&rq, listen_fd, 0);
	while (FCGX_Accept_r(&rq) >= 0) {
		handle_request(&rq, &db);
		FCGX_Finish_r(&rq);
	}
	wsp_db_close(db);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: wspulse.fcgi [-c FILE] [--listen ADDR] [--check-config] [--version]\n"
		   "The wspulse REST side, a FastCGI program.\n\n"
		   "  -c, --config FILE   configuration file (default %s)\n"
		   "  -l, --listen ADDR   listen on ADDR (:PORT, HOST:PORT or a unix socket path)\n"
		   "                      instead of the socket on stdin (spawn-fcgi, mod_fcgid)\n"
		   "      --check-config  read the configuration, print it, and exit\n"
		   "  -V, --version       print the version and exit\n", WSP_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = WSP_DEFAULT_CONFIG, *listen_addr = NULL;
	int check_only = 0, opt;
	pthread_t *threads;
	sigset_t sigs;
	int sig = 0;
	wsp_error err;

	while ((opt = getopt_long(argc, argv, "c:l:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'C': check_only = 1; break;
		case 'V': printf("wspulse.fcgi %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	wsp_error_init(&err);
	if (wsp_config_init(&cfg) < 0 || wsp_config_load(&cfg, path, &err) < 0) {
		fprintf(stderr, "wspulse.fcgi: %s\n", err.text);
		return 1;
	}
	if (check_only) {
		wsp_config_dump(&cfg, stdout);
		return 0;
	}
	if (wsp_log_open("wspulse.fcgi", cfg.log_level, cfg.log_file) < 0) {
		fprintf(stderr, "wspulse.fcgi: cannot open log file %s\n", cfg.log_file);
		return 1;
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "wspulse.fcgi: FCGX_Init failed\n");
		return 1;
	}
	if (!listen_addr && cfg.fcgi_listen[0])
		listen_addr = cfg.fcgi_listen;
	if (listen_addr) {
		listen_fd = FCGX_OpenSocket(listen_addr, 128);
		if (listen_fd < 0) {
			fprintf(stderr, "wspulse.fcgi: cannot listen on %s\n", listen_addr);
			return 1;
		}
	} else if (FCGX_IsCGI()) {
		fprintf(stderr, "wspulse.fcgi: no FastCGI socket on stdin; use --listen ADDR or run it under spawn-fcgi/mod_fcgid\n");
		return 1;
	}
	wsp_info(NULL, "serving with %ld threads%s%s", cfg.fcgi_threads,
		 listen_addr ? " on " : " on the inherited socket", listen_addr ? listen_addr : "");
	/* Workers block in accept(); the main thread alone takes SIGTERM/SIGINT
	 * (libfcgi's own handler only sets a flag) and ends the process. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	threads = calloc((size_t)cfg.fcgi_threads, sizeof(*threads));
	if (!threads) {
		fprintf(stderr, "wspulse.fcgi: out of memory\n");
		return 1;
	}
	for (long i = 0; i < cfg.fcgi_threads; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			wsp_log_reopen();
			continue;
		}
		break;
	}
	wsp_info(NULL, "signal %d: stopping", sig);
	FCGX_ShutdownPending();
	free(threads);
	wsp_config_cleanup(&cfg);
	return 0;
}
