/* wsframe.h - the WebSocket frames the daemon writes itself: final,
 * unmasked text frames (RFC 6455 5.2; a server never masks, and wspulsed
 * negotiates no extension), laid one after the other into a caller-owned
 * buffer so several queued messages leave in one write (client.c).  Pure:
 * no lws, no allocation. */
#ifndef WSP_WSFRAME_H
#define WSP_WSFRAME_H

#include <stdbool.h>
#include <stddef.h>

#define WSP_FRAME_HEAD_MAX 10   /* bytes of the longest header (64-bit length) */

/* Write the header of a final text frame carrying len bytes at p (room for
 * WSP_FRAME_HEAD_MAX); returns its length: 2, 4 or 10. */
size_t wsp_frame_text_head(unsigned char *p, size_t len);

/* A batch of whole frames being built in a caller's buffer. */
typedef struct wsp_framebuf {
	unsigned char *start;        /* the first frame's first byte */
	size_t cap;                  /* bytes the buffer has from start */
	size_t len;                  /* bytes of frames so far */
} wsp_framebuf;

/* An empty batch in the cap bytes at start (BORROWED, the caller's). */
void wsp_framebuf_init(wsp_framebuf *b, unsigned char *start, size_t cap);
/* Append one text frame of the len bytes at payload when the batch with
 * it, counting a full-size header, stays within both the buffer and
 * `limit` bytes; true when appended, false (batch unchanged) when not. */
bool wsp_framebuf_add(wsp_framebuf *b, const void *payload, size_t len, size_t limit);

#endif
