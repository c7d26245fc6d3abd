/* buf.c - see buf.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"

void wsp_buf_init(wsp_buf *b)
{
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

static int reserve(wsp_buf *b, size_t extra)
{
	size_t need, cap;
	char *s;

	if (b->oom)
		return WSP_ERR_NOMEM;
	if (extra > (size_t)-1 / 2 - b->len - 1) {
		b->oom = 1;
		return WSP_ERR_NOMEM;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	s = wsp_realloc(b->s, cap);
	if (!s) {
		b->oom = 1;
		return WSP_ERR_NOMEM;
	}
	b->s = s;
	b->cap = cap;
	return 0;
}

int wsp_buf_add(wsp_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return WSP_ERR_NOMEM;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int wsp_buf_puts(wsp_buf *b, const char *s) { return wsp_buf_add(b, s, strlen(s)); }

int wsp_buf_printf(wsp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n) < 0)
		return WSP_ERR_NOMEM;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *wsp_buf_str(const wsp_buf *b) { return b->s ? b->s : ""; }

void wsp_buf_reset(wsp_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void wsp_buf_cleanup(wsp_buf *b)
{
	wsp_free(b->s);
	wsp_buf_init(b);
}
