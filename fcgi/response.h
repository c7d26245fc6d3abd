/* response.h - one HTTP response being built, and the jPulse JSON envelope.
 *
 * Success: {"success":true,"data":<data>, ...extra} with status 200.
 * Error:   {"success":false,"error":<message>,"code":<CODE>,"path":<path>, ...extra}
 * with the matching HTTP status; CODE is an upper-case string as in jPulse
 * (VALIDATION_ERROR, HELLO_TODO_NOT_FOUND, ...).
 *
 * Headers are checked as they are added: a name must be an HTTP token and a
 * value must hold no CR, LF or other control character, so nothing taken from
 * a request can ever inject a header or split the response.
 * Pure: rendering produces the CGI-style bytes ("Status: ..." first) that the
 * FastCGI loop writes out.
 */
#ifndef WSP_RESPONSE_H
#define WSP_RESPONSE_H

#include <jansson.h>

#include "buf.h"
#include "error.h"

/* One per request; caller-owned. */
typedef struct wsp_response {
	int status;          /* 0 until something set it */
	wsp_buf headers;     /* "Name: value\r\n" lines, already checked */
	wsp_buf body;
	int bad_header;      /* a header was refused (logged by the caller) */
} wsp_response;

void wsp_response_init(wsp_response *r);
void wsp_response_cleanup(wsp_response *r);
/* Forget status, headers and body (to replace a half-built answer). */
void wsp_response_reset(wsp_response *r);

/* Add a header.  WSP_ERR_INVALID (and nothing added) when the name is not a
 * token or the value holds a control character; WSP_ERR_NOMEM. */
int wsp_response_header(wsp_response *r, const char *name, const char *value);

/* Set status and a JSON body (Content-Type application/json, Cache-Control
 * no-store).  `body` is stolen (freed here, also on error). */
int wsp_response_json(wsp_response *r, int status, json_t *body);

/* 200 {"success":true,"data":data,...extra}.  data and extra (an object or
 * NULL) are stolen. */
int wsp_response_success(wsp_response *r, json_t *data, json_t *extra);

/* status {"success":false,"error":message,"code":code,"path":path,...extra};
 * extra (object or NULL) is stolen.  path may be NULL. */
int wsp_response_error(wsp_response *r, int status, const char *message, const char *code,
		       const char *path, json_t *extra);

/* The error envelope for a wsp_error: status from wsp_error_http_status,
 * code from wsp_api_error_code.  For 500 and 503 the message is a generic
 * sentence (the internal text may name hosts or SQL; the caller logs it). */
int wsp_response_from_error(wsp_response *r, const wsp_error *err, const char *path);

/* The API code string for a WSP_ERR_* ("VALIDATION_ERROR", "UNAUTHORIZED",
 * "FORBIDDEN", "NOT_FOUND", "CONFLICT", "PAYLOAD_TOO_LARGE",
 * "TOO_MANY_REQUESTS", "DATABASE_UNAVAILABLE", "SESSION_EXPIRED",
 * "INTERNAL_ERROR"). */
const char *wsp_api_error_code(int code);

/* Set status and an HTML body (text/html; charset=utf-8, no-store).  The
 * caller escaped every value in html.  Copies html. */
int wsp_response_html(wsp_response *r, int status, const char *html, size_t len);

/* Set status and a plain body of type `content_type` (no-store).  Copies
 * text. */
int wsp_response_text(wsp_response *r, int status, const char *content_type, const char *text,
		      size_t len);

/* 302 to `location` (a local path, checked like any header value). */
int wsp_response_redirect(wsp_response *r, const char *location);

/* The session cookie's attributes. */
typedef struct wsp_cookie {
	const char *name;
	const char *value;      /* "" with max_age 0 deletes it */
	long max_age;
	int secure;             /* add Secure (the request came over HTTPS) */
	const char *domain;     /* NULL or "": host-only; else Domain=<domain> (cookie_domain) */
} wsp_cookie;

/* Add Set-Cookie: name=value; HttpOnly; SameSite=Lax; Path=/; Max-Age=N[; Secure]
 * [; Domain=D].  The value must be cookie-octets only (RFC 6265) and the
 * domain pass wsp_cookie_domain_ok(); else WSP_ERR_INVALID. */
int wsp_response_cookie(wsp_response *r, const wsp_cookie *c);

/* A host name a cookie may name in Domain=: an optional leading '.', then
 * dot-separated labels of letters, digits and '-' (1-63 characters, not
 * starting or ending with '-'), at most 253 characters.  True/false. */
int wsp_cookie_domain_ok(const char *d);

/* Render "Status: N Reason\r\n" + headers + "\r\n" + body into out.  A
 * response nobody filled renders as 500 JSON.  0 or WSP_ERR_NOMEM. */
int wsp_response_render(const wsp_response *r, wsp_buf *out);

/* Reason phrase for a status ("Not Found"); "Unknown" otherwise. */
const char *wsp_http_reason(int status);

#endif
