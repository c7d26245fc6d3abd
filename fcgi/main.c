/* main.c - wspulse.fcgi: command line, listening socket, worker threads and
 * the accept loop.  Everything a request needs is routed from the table in
 * routes.c; this file only adapts FastCGI to the pure request/response
 * modules.
 *
 * Sockets: with --listen ADDR (or fcgi_listen in the config) it opens its own
 * listening socket; otherwise it uses the one on stdin, as spawn-fcgi and
 * Apache mod_fcgid pass it.  fcgi_threads workers serve concurrently, each
 * with its own PostgreSQL connection, so one slow request never holds up
 * another; they take their connections from connpool.h, which lets the web
 * server keep FastCGI connections open without pinning a thread to each. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "app.h"
#include "connpool.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "notify.h"
#include "pubgroup.h"
#include "reload.h"

static wsp_app *boot;   /* the state read at start (reload.h then owns it) */
static int listen_fd;   /* 0: the socket on stdin */
static wsp_route *routes;   /* the rows of wsp_routes served (demo = on|off) */
static size_t nroutes;
static wsp_pubgroup *pubgroup;   /* single publishes share commits (pubgroup.h) */
static wsp_connpool *connpool;   /* the connections the workers serve (connpool.h) */

static const char *fcgx_param(const char *name, void *ud)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ud)->envp);
}

static long fcgx_read(void *ud, char *buf, size_t n)
{
	FCGX_Stream *in = ((FCGX_Request *)ud)->in;
	int r = FCGX_GetStr(buf, n > INT_MAX ? INT_MAX : (int)n, in);

	if (r <= 0 && FCGX_GetError(in))
		return -1;
	return r;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void handle_request(FCGX_Request *rq, wsp_db **db)
{
	double t0 = now_ms();
	wsp_request req;
	wsp_response resp;
	wsp_ctx ctx;
	wsp_buf out;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	wsp_response_init(&resp);
	wsp_buf_init(&out);
	/* The configuration this request lives with, whatever a reload does. */
	ctx.app = wsp_app_acquire();
	if (wsp_request_init(&req, fcgx_param, rq, ctx.app->cfg.trusted_proxies.v) < 0) {
		wsp_request_cleanup(&req);
		wsp_response_render(&resp, &out);   /* 500 fallback */
		FCGX_PutStr(wsp_buf_str(&out), (int)out.len, rq->out);
		wsp_buf_cleanup(&out);
		wsp_app_release(ctx.app);
		return;
	}
	ctx.db = db;
	ctx.pubgroup = pubgroup;
	ctx.req = &req;
	ctx.resp = &resp;
	ctx.read = fcgx_read;
	ctx.read_ud = rq;
	switch (wsp_router_match(routes, nroutes, req.method, req.path, &ctx.match)) {
	case WSP_ROUTE_FOUND:
		if ((ctx.match.route->flags & WSP_ROUTE_ANON_RATE) && !wsp_ctx_anon_write_allowed(&ctx)) {
			rc = 0;
			break;
		}
		rc = ctx.match.route->handler(&ctx);
		if (rc < 0 && !resp.status)
			wsp_err(NULL, "%s %s: handler failed: %s", req.method, req.path, wsp_error_name(rc));
		break;
	case WSP_ROUTE_BAD_METHOD:
		wsp_response_error(&resp, 405, "Method not allowed", "METHOD_NOT_ALLOWED", req.path, NULL);
		wsp_response_header(&resp, "Allow", ctx.match.allow);
		break;
	default:
		wsp_response_error(&resp, 404, "Not found", "NOT_FOUND", req.path, NULL);
		break;
	}
	if (resp.bad_header)
		wsp_warn(NULL, "%s %s: a response header was refused", req.method, req.path);
	/* Keep the connection in step: consume a body nobody read. */
	if (!req.body)
		wsp_request_drain(fcgx_read, rq);
	wsp_response_render(&resp, &out);
	FCGX_PutStr(wsp_buf_str(&out), (int)out.len, rq->out);
	wsp_debug(NULL, "%s %s %d %.1fms", req.method, req.path, resp.status ? resp.status : 500,
		  now_ms() - t0);
	wsp_buf_cleanup(&out);
	wsp_response_cleanup(&resp);
	wsp_request_cleanup(&req);
	wsp_app_release(ctx.app);
}

static void *worker(void *arg)
{
	FCGX_Request rq;
	wsp_db *db = NULL;

	int fd;

	(void)arg;
	wsp_connpool_init_request(&rq);
	while ((fd = wsp_connpool_next(connpool)) >= 0) {
		if (wsp_connpool_accept(connpool, &rq, fd) < 0)
			continue;
		handle_request(&rq, &db);
		wsp_connpool_finish(connpool, &rq);
	}
	wsp_db_close(db);
	return NULL;
}

/* SIGUSR2 only interrupts a worker's wait: epoll_wait() fails with EINTR and
 * the worker, seeing the pool stopping, ends; a read of a request under way
 * (installed without SA_RESTART) fails too, and libfcgi, seeing its shutdown
 * flag, gives that request up. */
static void on_wake(int sig) { (void)sig; }

/* Stop the workers and wait for them (at most ~3 s for a request still being
 * served; returns how many are still busy then): a thread that ends normally runs its thread-exit handlers (OpenSSL
 * frees its per-thread state there) and closes its database connection, so
 * a sanitizer or valgrind run sees a clean exit.  The signal is sent again
 * until a thread has gone, for one that had just passed libfcgi's flag check
 * when the first one came. */
static long stop_workers(pthread_t *threads, long n)
{
	struct sigaction sa;
	struct timespec until;
	long left = n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	FCGX_ShutdownPending();
	wsp_connpool_stop(connpool);
	for (int round = 0; round < 60 && left > 0; round++) {
		for (long i = 0; i < n; i++) {
			if (!threads[i])
				continue;
			pthread_kill(threads[i], SIGUSR2);
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 50 * 1000 * 1000;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			if (pthread_timedjoin_np(threads[i], NULL, &until) == 0) {
				threads[i] = 0;
				left--;
			}
		}
	}
	if (left)
		wsp_warn(NULL, "%ld worker(s) still busy at exit: ending without waiting for them", left);
	return left;
}

/* systemd readiness (notify.h); a failure is logged, never fatal. */
static void notify(const char *state)
{
	wsp_error err;

	wsp_error_init(&err);
	if (wsp_notify(state, &err) < 0)
		wsp_warn(NULL, "cannot notify systemd: %s", err.text);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: wspulse.fcgi [-c FILE] [--listen ADDR] [--check-config [--offline]] [--version]\n"
		   "The wspulse REST side, a FastCGI program.\n\n"
		   "  -c, --config FILE   configuration file (default %s)\n"
		   "  -l, --listen ADDR   listen on ADDR (:PORT, HOST:PORT or a unix socket path)\n"
		   "                      instead of the socket on stdin (spawn-fcgi, mod_fcgid)\n"
		   "      --check-config  read the configuration, check the secret files, reach the\n"
		   "                      database; print the configuration and exit\n"
		   "      --offline       with --check-config: do not connect to the database\n"
		   "  -V, --version       print the version and exit\n", WSP_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "offline", no_argument, NULL, 'O' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = WSP_DEFAULT_CONFIG, *listen_addr = NULL;
	int check_only = 0, offline = 0, opt;
	long nthreads;
	pthread_t *threads;
	sigset_t sigs;
	int sig = 0;
	wsp_error err;

	while ((opt = getopt_long(argc, argv, "c:l:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'C': check_only = 1; break;
		case 'O': offline = 1; break;
		case 'V': printf("wspulse.fcgi %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	wsp_error_init(&err);
	boot = calloc(1, sizeof(*boot));
	if (!boot || wsp_config_init(&boot->cfg) < 0 || wsp_config_load(&boot->cfg, path, &err) < 0) {
		fprintf(stderr, "wspulse.fcgi: %s\n", boot ? err.text : "out of memory");
		if (boot)
			wsp_config_cleanup(&boot->cfg);
		free(boot);
		return 1;
	}
	if (wsp_app_load(boot, &err) < 0) {
		fprintf(stderr, "wspulse.fcgi: %s\n", err.text);
		wsp_config_cleanup(&boot->cfg);
		free(boot);
		return 1;
	}
	if (check_only && offline) {
		wsp_config_dump(&boot->cfg, stdout);
		wsp_config_cleanup(&boot->cfg);
		free(boot);
		return 0;
	}
	if (wsp_log_open("wspulse.fcgi", boot->cfg.log_level, boot->cfg.log_file) < 0) {
		fprintf(stderr, "wspulse.fcgi: cannot open log file %s\n", boot->cfg.log_file);
		return 1;
	}
	routes = calloc(wsp_routes_count, sizeof(*routes));
	if (!routes) {
		fprintf(stderr, "wspulse.fcgi: out of memory\n");
		return 1;
	}
	nroutes = wsp_routes_select(boot->cfg.demo, routes, wsp_routes_count);
	pubgroup = wsp_pubgroup_new(boot->cfg.database);
	if (!pubgroup) {
		fprintf(stderr, "wspulse.fcgi: out of memory\n");
		return 1;
	}
	/* Refuse to start against a database that cannot be reached: a typo in
	 * `database` must show at start-up, not as 503s later.  Once running,
	 * an outage is answered with 503 and the workers reconnect. */
	{
		wsp_db *probe = wsp_db_connect(boot->cfg.database, &err);

		if (!probe) {
			fprintf(stderr, "wspulse.fcgi: %s\n", err.text);
			free(routes);
			wsp_config_cleanup(&boot->cfg);
			free(boot);
			return 1;
		}
		wsp_db_close(probe);
	}
	if (check_only) {
		wsp_config_dump(&boot->cfg, stdout);
		wsp_config_cleanup(&boot->cfg);
		free(boot);
		free(routes);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Workers block in accept(); the main thread alone takes SIGTERM/SIGINT
	 * (libfcgi's own handler only sets a flag) and ends the process.
	 * Blocked before FCGX_Init installs that handler: a SIGTERM while the
	 * process starts waits for sigwait() below instead of being swallowed
	 * by the flag. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "wspulse.fcgi: FCGX_Init failed\n");
		return 1;
	}
	if (!listen_addr && boot->cfg.fcgi_listen[0] && FCGX_IsCGI())
		listen_addr = boot->cfg.fcgi_listen;
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
	connpool = wsp_connpool_new(listen_fd, boot->cfg.fcgi_threads, &err);
	if (!connpool) {
		fprintf(stderr, "wspulse.fcgi: %s\n", err.text);
		return 1;
	}
	wsp_info(NULL, "serving with %ld threads%s%s", boot->cfg.fcgi_threads,
		 listen_addr ? " on " : " on the inherited socket", listen_addr ? listen_addr : "");
	nthreads = boot->cfg.fcgi_threads;   /* boot may be replaced (and freed) by a reload */
	wsp_app_install(boot);
	threads = calloc((size_t)nthreads, sizeof(*threads));
	if (!threads) {
		fprintf(stderr, "wspulse.fcgi: out of memory\n");
		return 1;
	}
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&threads[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "wspulse.fcgi: cannot start worker thread %ld\n", i);
			return 1;
		}
	notify("READY=1\nSTATUS=serving");
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			wsp_app_reload(path);   /* reopens the log too */
			continue;
		}
		break;
	}
	wsp_info(NULL, "signal %d: stopping", sig);
	notify("STOPPING=1");
	if (stop_workers(threads, nthreads) > 0) {
		/* A worker still inside a request (a query that waits on a lock
		 * or an unreachable database: libpq does not give up on a
		 * signal) would use what is freed below: end without freeing. */
		_exit(0);
	}
	free(threads);
	free(routes);
	{
		unsigned long long groups, items;

		wsp_pubgroup_counts(pubgroup, &groups, &items);
		wsp_info(NULL, "single publishes: %llu in %llu commits", items, groups);
	}
	wsp_pubgroup_free(pubgroup);
	wsp_connpool_free(connpool);
	wsp_app_shutdown();
	return 0;
}
