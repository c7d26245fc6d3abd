/* response.c - see response.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "response.h"

void wsp_response_init(wsp_response *r)
{
	r->status = 0;
	r->bad_header = 0;
	wsp_buf_init(&r->headers);
	wsp_buf_init(&r->body);
}

void wsp_response_cleanup(wsp_response *r)
{
	wsp_buf_cleanup(&r->headers);
	wsp_buf_cleanup(&r->body);
	r->status = 0;
}

void wsp_response_reset(wsp_response *r)
{
	wsp_buf_reset(&r->headers);
	wsp_buf_reset(&r->body);
	r->status = 0;
	r->headers.oom = r->body.oom = 0;
}

static int is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int wsp_response_header(wsp_response *r, const char *name, const char *value)
{
	if (!name || !*name || !value) {
		r->bad_header = 1;
		return WSP_ERR_INVALID;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (!is_tchar(*p)) {
			r->bad_header = 1;
			return WSP_ERR_INVALID;
		}
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			r->bad_header = 1;
			return WSP_ERR_INVALID;
		}
	wsp_buf_puts(&r->headers, name);
	wsp_buf_add(&r->headers, ": ", 2);
	wsp_buf_puts(&r->headers, value);
	wsp_buf_add(&r->headers, "\r\n", 2);
	return r->headers.oom ? WSP_ERR_NOMEM : 0;
}

int wsp_response_json(wsp_response *r, int status, json_t *body)
{
	char *text;

	if (!body)
		return WSP_ERR_NOMEM;
	text = wsp_json_dump(body, NULL);
	json_decref(body);
	if (!text)
		return WSP_ERR_NOMEM;
	r->status = status;
	wsp_buf_reset(&r->body);
	wsp_buf_puts(&r->body, text);
	wsp_free(text);
	wsp_response_header(r, "Content-Type", "application/json; charset=utf-8");
	wsp_response_header(r, "Cache-Control", "no-store");
	return r->body.oom || r->headers.oom ? WSP_ERR_NOMEM : 0;
}

int wsp_response_success(wsp_response *r, json_t *data, json_t *extra)
{
	json_t *o = json_object();

	if (!o) {
		json_decref(data);
		json_decref(extra);
		return WSP_ERR_NOMEM;
	}
	json_object_set_new(o, "success", json_true());
	json_object_set_new(o, "data", data ? data : json_null());
	if (extra && json_is_object(extra))
		json_object_update_missing(o, extra);
	json_decref(extra);
	return wsp_response_json(r, 200, o);
}

int wsp_response_error(wsp_response *r, int status, const char *message, const char *code,
		       const char *path, json_t *extra)
{
	json_t *o = json_object();

	if (!o) {
		json_decref(extra);
		return WSP_ERR_NOMEM;
	}
	json_object_set_new(o, "success", json_false());
	json_object_set_new(o, "error", json_string(message ? message : "Error"));
	json_object_set_new(o, "code", json_string(code ? code : "ERROR"));
	if (path) {
		json_t *p = json_string(path);

		/* A path that is not UTF-8 cannot be a JSON string: leave it out. */
		if (p)
			json_object_set_new(o, "path", p);
	}
	if (extra && json_is_object(extra))
		json_object_update_missing(o, extra);
	json_decref(extra);
	return wsp_response_json(r, status, o);
}

const char *wsp_api_error_code(int code)
{
	switch (code) {
	case WSP_ERR_INVALID: return "VALIDATION_ERROR";
	case WSP_ERR_NOTFOUND: return "NOT_FOUND";
	case WSP_ERR_EXISTS: return "CONFLICT";
	case WSP_ERR_DB: return "DATABASE_UNAVAILABLE";
	case WSP_ERR_AUTH: return "UNAUTHORIZED";
	case WSP_ERR_FORBIDDEN: return "FORBIDDEN";
	case WSP_ERR_TOOBIG: return "PAYLOAD_TOO_LARGE";
	case WSP_ERR_LIMIT: return "TOO_MANY_REQUESTS";
	case WSP_ERR_EXPIRED: return "SESSION_EXPIRED";
	default: return "INTERNAL_ERROR";
	}
}

int wsp_response_from_error(wsp_response *r, const wsp_error *err, const char *path)
{
	int code = err && err->code ? err->code : WSP_ERR_INTERNAL;
	int status = wsp_error_http_status(code);
	const char *msg = err && err->text[0] ? err->text : "Error";

	if (status == 503)
		msg = "Service temporarily unavailable (database), try again later";
	else if (status >= 500)
		msg = "Internal server error";
	return wsp_response_error(r, status, msg, wsp_api_error_code(code), path, NULL);
}

int wsp_response_html(wsp_response *r, int status, const char *html, size_t len)
{
	r->status = status;
	wsp_buf_reset(&r->body);
	wsp_buf_add(&r->body, html, len);
	wsp_response_header(r, "Content-Type", "text/html; charset=utf-8");
	wsp_response_header(r, "Cache-Control", "no-store");
	wsp_response_header(r, "X-Content-Type-Options", "nosniff");
	return r->body.oom || r->headers.oom ? WSP_ERR_NOMEM : 0;
}

int wsp_response_text(wsp_response *r, int status, const char *content_type, const char *text,
		      size_t len)
{
	r->status = status;
	wsp_buf_reset(&r->body);
	wsp_buf_add(&r->body, text, len);
	wsp_response_header(r, "Content-Type", content_type);
	wsp_response_header(r, "Cache-Control", "no-store");
	wsp_response_header(r, "X-Content-Type-Options", "nosniff");
	return r->body.oom || r->headers.oom ? WSP_ERR_NOMEM : 0;
}

int wsp_response_redirect(wsp_response *r, const char *location)
{
	int rc = wsp_response_header(r, "Location", location);

	if (rc < 0)
		return rc;
	r->status = 302;
	wsp_response_header(r, "Cache-Control", "no-store");
	return 0;
}

static int cookie_octets_ok(const char *s)
{
	/* RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == ',' || *p == ';' || *p == '\\')
			return 0;
	return 1;
}

int wsp_cookie_domain_ok(const char *d)
{
	size_t len = 0;

	if (!d)
		return 0;
	if (*d == '.')
		d++;
	if (!*d || strlen(d) > 253)
		return 0;
	for (const char *p = d; ; p++) {
		if (*p == '.' || !*p) {
			if (len == 0 || len > 63 || p[-1] == '-' || p[-(long)len] == '-')
				return 0;
			if (!*p)
				return 1;
			len = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			   *p == '-') {
			len++;
		} else {
			return 0;
		}
	}
}

int wsp_response_cookie(wsp_response *r, const wsp_cookie *c)
{
	char line[1024];
	int domain = c->domain && *c->domain;
	int n;

	if (!c->name || !*c->name || !cookie_octets_ok(c->name) || strchr(c->name, '=') ||
	    !c->value || !cookie_octets_ok(c->value) || (domain && !wsp_cookie_domain_ok(c->domain))) {
		r->bad_header = 1;
		return WSP_ERR_INVALID;
	}
	n = snprintf(line, sizeof(line), "%s=%s; HttpOnly; SameSite=Lax; Path=/; Max-Age=%ld%s%s%s",
		     c->name, c->value, c->max_age < 0 ? 0 : c->max_age, c->secure ? "; Secure" : "",
		     domain ? "; Domain=" : "", domain ? c->domain : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return WSP_ERR_INVALID;
	return wsp_response_header(r, "Set-Cookie", line);
}

const char *wsp_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

int wsp_response_render(const wsp_response *r, wsp_buf *out)
{
	if (!r->status || r->headers.oom || r->body.oom) {
		static const char fallback[] =
			"Status: 500 Internal Server Error\r\n"
			"Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n\r\n"
			"{\"success\":false,\"error\":\"Internal server error\",\"code\":\"INTERNAL_ERROR\"}";

		return wsp_buf_add(out, fallback, sizeof(fallback) - 1);
	}
	wsp_buf_printf(out, "Status: %d %s\r\n", r->status, wsp_http_reason(r->status));
	wsp_buf_add(out, wsp_buf_str(&r->headers), r->headers.len);
	wsp_buf_printf(out, "Content-Length: %zu\r\n\r\n", r->body.len);
	wsp_buf_add(out, wsp_buf_str(&r->body), r->body.len);
	return out->oom ? WSP_ERR_NOMEM : 0;
}
