/* error.c - see error.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "error.h"

void wsp_error_init(wsp_error *err)
{
	if (err) {
		err->code = 0;
		err->text[0] = '\0';
	}
}

int wsp_error_set(wsp_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->code != 0)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return code;
}

const char *wsp_error_name(int code)
{
	switch (code) {
	case WSP_OK: return "OK";
	case WSP_ERR_NOMEM: return "NOMEM";
	case WSP_ERR_INVALID: return "INVALID";
	case WSP_ERR_NOTFOUND: return "NOTFOUND";
	case WSP_ERR_EXISTS: return "EXISTS";
	case WSP_ERR_IO: return "IO";
	case WSP_ERR_DB: return "DB";
	case WSP_ERR_AUTH: return "AUTH";
	case WSP_ERR_FORBIDDEN: return "FORBIDDEN";
	case WSP_ERR_TOOBIG: return "TOOBIG";
	case WSP_ERR_LIMIT: return "LIMIT";
	case WSP_ERR_EXPIRED: return "EXPIRED";
	default: return "INTERNAL";
	}
}

int wsp_error_http_status(int code)
{
	switch (code) {
	case WSP_OK: return 200;
	case WSP_ERR_INVALID: return 400;
	case WSP_ERR_AUTH: case WSP_ERR_EXPIRED: return 401;
	case WSP_ERR_FORBIDDEN: return 403;
	case WSP_ERR_NOTFOUND: return 404;
	case WSP_ERR_EXISTS: return 409;
	case WSP_ERR_TOOBIG: return 413;
	case WSP_ERR_LIMIT: return 429;
	case WSP_ERR_DB: return 503;
	default: return 500;
	}
}
