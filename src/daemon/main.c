/* main.c - wspulsed: command line, configuration, signals, the lws loop.
 *
 * FOUNDATION SKELETON: answers GET /health and accepts WebSockets on
 * /api/1/ws/ with the welcome envelope.  The full daemon (namespaces,
 * modules, auth, limits, PostgreSQL bus) replaces the protocol callback. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "conf.h"
#include "log.h"
#include "secret.h"

static volatile sig_atomic_t stopping;
static struct lws_context *ctx;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (ctx)
		lws_cancel_service(ctx);
}

static int send_json(struct lws *wsi, int status, const char *body)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	size_t n = strlen(body);

	if (lws_add_http_common_headers(wsi, (unsigned)status, "application/json", n, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (lws_write(wsi, (unsigned char *)body, n, LWS_WRITE_HTTP_FINAL) != (int)n)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (strcmp((const char *)in, "/health") == 0)
			return send_json(wsi, 200, "{\"success\":true,\"data\":{\"status\":\"ok\",\"program\":\"wspulsed\"}}");
		return send_json(wsi, 404, "{\"success\":false,\"error\":\"not found\",\"code\":404}");
	case LWS_CALLBACK_ESTABLISHED: {
		char uri[256], msg[LWS_PRE + 512];
		int n;

		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
		    strncmp(uri, "/api/1/ws/", 10) != 0)
			return -1;
		n = snprintf(msg + LWS_PRE, sizeof(msg) - LWS_PRE,
			     "{\"success\":true,\"data\":{\"type\":\"connected\",\"namespace\":\"%s\",\"username\":\"\"}}",
			     uri);
		if (n > 0 && (size_t)n < sizeof(msg) - LWS_PRE)
			lws_write(wsi, (unsigned char *)msg + LWS_PRE, (size_t)n, LWS_WRITE_TEXT);
		return 0;
	}
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "wspulse", cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: wspulsed [-c FILE] [--check-config] [--version] [--help]\n"
		   "The wspulse WebSocket daemon.\n\n"
		   "  -c, --config FILE   configuration file (default %s)\n"
		   "      --check-config  read the configuration, print it, and exit\n"
		   "  -V, --version       print the version and exit\n"
		   "  -h, --help          print this help and exit\n\nConfiguration keys:\n",
		WSP_DEFAULT_CONFIG);
	wsp_config_describe(f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = WSP_DEFAULT_CONFIG;
	int check_only = 0, opt, port;
	struct lws_context_creation_info info;
	wsp_config cfg;
	wsp_error err;
	wsp_secret secret;
	char host[256], *colon;

	while ((opt = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'C': check_only = 1; break;
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
	/* Every failure below frees the configuration, so a sanitizer run sees
	 * a clean exit on the error paths too. */
	if (wsp_config_load(&cfg, path, &err) < 0) {
		fprintf(stderr, "wspulsed: %s\n", err.text);
		goto fail;
	}
	if (check_only) {
		wsp_config_dump(&cfg, stdout);
		wsp_config_cleanup(&cfg);
		return 0;
	}
	if (wsp_log_open("wspulsed", cfg.log_level, cfg.log_file) < 0) {
		fprintf(stderr, "wspulsed: cannot open log file %s\n", cfg.log_file);
		goto fail;
	}
	if (wsp_secret_load(&secret, cfg.secret_file, &err) < 0) {
		fprintf(stderr, "wspulsed: %s\n", err.text);
		goto fail;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
	if (strncmp(cfg.listen, "unix:", 5) == 0) {
		/* A unix socket, for a proxy on the same machine. */
		snprintf(host, sizeof(host), "%s", cfg.listen + 5);
		unlink(host);
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		port = 0;
	} else {
		snprintf(host, sizeof(host), "%s", cfg.listen);
		colon = strrchr(host, ':');
		if (!colon || (port = atoi(colon + 1)) <= 0 || port > 65535) {
			fprintf(stderr, "wspulsed: %s: listen must be HOST:PORT or unix:PATH, not '%s'\n",
				path, cfg.listen);
			goto fail;
		}
		*colon = '\0';
	}
	info.port = port;
	info.iface = host;
	info.protocols = protocols;
	ctx = lws_create_context(&info);
	if (!ctx) {
		fprintf(stderr, "wspulsed: cannot listen on %s\n", cfg.listen);
		goto fail;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	wsp_info(NULL, "listening on %s", cfg.listen);
	while (!stopping && lws_service(ctx, 0) >= 0)
		;
	lws_context_destroy(ctx);
	wsp_info(NULL, "stopped");
	wsp_config_cleanup(&cfg);
	return 0;
fail:
	wsp_config_cleanup(&cfg);
	return 1;
}
