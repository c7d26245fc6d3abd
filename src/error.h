/* error.h - error codes and the caller-provided error record.
 *
 * Functions return 0 on success or a negative WSP_ERR_* code; constructors
 * return NULL.  Details go into an optional `wsp_error *err` supplied by the
 * caller: the FIRST error recorded wins, so a low-level cause is not
 * overwritten by a generic message further up.  The code maps straight onto an
 * HTTP status (wsp_error_http_status) so the REST side can answer with it.
 */
#ifndef WSP_ERROR_H
#define WSP_ERROR_H

#include <stddef.h>

enum {
	WSP_OK = 0,
	WSP_ERR_NOMEM = -1,     /* allocation failed */
	WSP_ERR_INVALID = -2,   /* bad argument or malformed input */
	WSP_ERR_NOTFOUND = -3,  /* no such thing */
	WSP_ERR_EXISTS = -4,    /* already registered / duplicate */
	WSP_ERR_IO = -5,        /* file or socket error (see text) */
	WSP_ERR_DB = -6,        /* PostgreSQL unreachable or query failed */
	WSP_ERR_AUTH = -7,      /* not authenticated / bad credentials */
	WSP_ERR_FORBIDDEN = -8, /* authenticated but not allowed */
	WSP_ERR_TOOBIG = -9,    /* over a configured size limit */
	WSP_ERR_LIMIT = -10,    /* rate or count limit reached */
	WSP_ERR_EXPIRED = -11,  /* token or session expired */
	WSP_ERR_INTERNAL = -12, /* a bug or an unexpected failure */
};

#define WSP_ERROR_TEXT_MAX 256

/* One per operation that may fail; caller-owned, usually on the stack. */
typedef struct wsp_error {
	int code;                       /* 0 until the first error is set */
	char text[WSP_ERROR_TEXT_MAX];  /* one human-readable line */
} wsp_error;

/* Reset err to "no error".  err may be NULL. */
void wsp_error_init(wsp_error *err);

/* Record an error unless one is already recorded.  Returns `code` so callers
 * can write `return wsp_error_set(err, WSP_ERR_INVALID, "...")`.  err may be
 * NULL (the error is then only returned). */
int wsp_error_set(wsp_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Short constant name of a code ("INVALID", "DB", ...). */
const char *wsp_error_name(int code);

/* The HTTP status that matches a code (400, 401, 403, 404, 409, 413, 429,
 * 500, 503). */
int wsp_error_http_status(int code);

#endif
