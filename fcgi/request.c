/* request.c - see request.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "cidr.h"
#include "request.h"
#include "token.h"

/* Copy an address token (trimmed, only characters an IP address uses). */
static int copy_addr(const char *s, size_t n, char *out, size_t outsz)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= outsz)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF.:[]", s[i]))
			return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

void wsp_client_address(const char *remote_addr, const char *x_real_ip, const char *xff,
			char *const *trusted, char *out, size_t outsz)
{
	if (remote_addr && *remote_addr && wsp_cidr_match_any(remote_addr, trusted)) {
		if (x_real_ip && copy_addr(x_real_ip, strlen(x_real_ip), out, outsz) == 0)
			return;
		if (xff) {
			/* Walk from the right: each trusted proxy appended the address
			 * it saw; the first one that is not a trusted proxy is the
			 * client.  Entries further left were written by the client. */
			size_t end = strlen(xff);

			while (end > 0) {
				size_t start = end;

				while (start > 0 && xff[start - 1] != ',')
					start--;
				if (copy_addr(xff + start, end - start, out, outsz) < 0)
					break;
				if (!wsp_cidr_match_any(out, trusted) || start == 0)
					return;
				end = start - 1;
			}
		}
	}
	if (!remote_addr || copy_addr(remote_addr, strlen(remote_addr), out, outsz) < 0)
		snprintf(out, outsz, "unknown");
}

int wsp_request_init(wsp_request *rq, wsp_param_fn param, void *ud, char *const *trusted)
{
	const char *uri = param("REQUEST_URI", ud);
	const char *cl = param("CONTENT_LENGTH", ud);
	const char *https = param("HTTPS", ud);
	const char *remote = param("REMOTE_ADDR", ud);
	const char *proto = param("HTTP_X_FORWARDED_PROTO", ud);

	memset(rq, 0, sizeof(*rq));
	rq->method = param("REQUEST_METHOD", ud);
	if (!rq->method || !*rq->method)
		rq->method = "GET";
	/* REQUEST_URI is set by nginx, Apache mod_proxy_fcgi and mod_fcgid;
	 * SCRIPT_NAME + PATH_INFO is the CGI fallback. */
	if (uri && *uri) {
		rq->path = wsp_strndup(uri, strcspn(uri, "?#"));
	} else {
		const char *sn = param("SCRIPT_NAME", ud), *pi = param("PATH_INFO", ud);
		size_t a = sn ? strlen(sn) : 0, b = pi ? strlen(pi) : 0;

		rq->path = wsp_malloc(a + b + 1);
		if (rq->path) {
			memcpy(rq->path, sn ? sn : "", a);
			memcpy(rq->path + a, pi ? pi : "", b);
			rq->path[a + b] = '\0';
		}
	}
	if (!rq->path)
		return WSP_ERR_NOMEM;
	rq->query = param("QUERY_STRING", ud);
	if (!rq->query)
		rq->query = "";
	rq->content_type = param("CONTENT_TYPE", ud);
	rq->content_length = -1;
	if (cl && *cl) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(cl, &end, 10);
		if (!errno && !*end && v >= 0)
			rq->content_length = v;
	}
	rq->cookie = param("HTTP_COOKIE", ud);
	rq->authorization = param("HTTP_AUTHORIZATION", ud);
	wsp_client_address(remote, param("HTTP_X_REAL_IP", ud), param("HTTP_X_FORWARDED_FOR", ud), trusted,
			   rq->client_addr, sizeof(rq->client_addr));
	wsp_limit_key(rq->client_addr, rq->limit_key, sizeof(rq->limit_key));
	rq->secure = (https && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0)) ||
		     (proto && remote && *remote && wsp_cidr_match_any(remote, trusted) && strcasecmp(proto, "https") == 0);
	return 0;
}

void wsp_limit_key(const char *addr, char *out, size_t outsz)
{
	unsigned char b[16];
	char text[INET6_ADDRSTRLEN];

	if (!outsz)
		return;
	if (!strchr(addr, ':') || inet_pton(AF_INET6, addr, b) != 1) {
		snprintf(out, outsz, "%s", addr);
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)b)) {
		inet_ntop(AF_INET, b + 12, text, sizeof(text));
		snprintf(out, outsz, "%s", text);
		return;
	}
	memset(b + 8, 0, 8);
	inet_ntop(AF_INET6, b, text, sizeof(text));
	snprintf(out, outsz, "%s/64", text);
}

void wsp_request_cleanup(wsp_request *rq)
{
	wsp_free(rq->path);
	wsp_free(rq->body);
	rq->path = rq->body = NULL;
}

/* Drain at most this much of an oversized body; past it the web server
 * gets a closed connection, which is what it deserves. */
#define DRAIN_MAX (64L * 1024 * 1024)

void wsp_request_drain(wsp_read_fn rd, void *ud)
{
	char tmp[8192];
	long total = 0, n;

	while (total < DRAIN_MAX && (n = rd(ud, tmp, sizeof(tmp))) > 0)
		total += n;
}

int wsp_request_read_body(wsp_request *rq, wsp_read_fn rd, void *ud, long max, wsp_error *err)
{
	size_t cap, len = 0;
	char *buf;

	if (rq->body)
		return 0;
	if (rq->content_length > max) {
		wsp_request_drain(rd, ud);
		return wsp_error_set(err, WSP_ERR_TOOBIG, "Request body over %ld bytes", max);
	}
	cap = rq->content_length >= 0 ? (size_t)rq->content_length + 1 : 4096;
	buf = wsp_malloc(cap);
	if (!buf)
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	for (;;) {
		long n;

		if (len + 1 >= cap) {
			char *nb;

			if (len >= (size_t)max + 1) {
				wsp_free(buf);
				wsp_request_drain(rd, ud);
				return wsp_error_set(err, WSP_ERR_TOOBIG, "Request body over %ld bytes", max);
			}
			nb = wsp_realloc(buf, cap * 2);
			if (!nb) {
				wsp_free(buf);
				return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
			}
			buf = nb;
			cap *= 2;
		}
		n = rd(ud, buf + len, cap - len - 1);
		if (n < 0) {
			wsp_free(buf);
			return wsp_error_set(err, WSP_ERR_IO, "cannot read the request body");
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)max) {
			wsp_free(buf);
			wsp_request_drain(rd, ud);
			return wsp_error_set(err, WSP_ERR_TOOBIG, "Request body over %ld bytes", max);
		}
	}
	buf[len] = '\0';
	rq->body = buf;
	rq->body_len = len;
	return 0;
}

const char *wsp_request_cookie(const wsp_request *rq, const char *name, size_t *len)
{
	return rq->cookie ? wsp_cookie_find(rq->cookie, name, len) : NULL;
}
