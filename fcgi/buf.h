/* buf.h - a growable byte buffer for building response bodies and headers.
 *
 * One per thing being built; caller-owned (usually inside a wsp_response).
 * After an allocation failure the buffer is marked `oom`, further appends are
 * ignored and return WSP_ERR_NOMEM, so callers may check once at the end.
 * The content is always NUL-terminated when s != NULL.
 */
#ifndef WSP_BUF_H
#define WSP_BUF_H

#include <stddef.h>

typedef struct wsp_buf {
	char *s;        /* NULL until the first append */
	size_t len;
	size_t cap;
	int oom;        /* an append failed */
} wsp_buf;

void wsp_buf_init(wsp_buf *b);
/* Append n bytes; 0 or WSP_ERR_NOMEM. */
int wsp_buf_add(wsp_buf *b, const char *s, size_t n);
int wsp_buf_puts(wsp_buf *b, const char *s);
int wsp_buf_printf(wsp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The content ("" when empty); valid until the next append or cleanup. */
const char *wsp_buf_str(const wsp_buf *b);
void wsp_buf_reset(wsp_buf *b);
void wsp_buf_cleanup(wsp_buf *b);

#endif
