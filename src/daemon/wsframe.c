/* wsframe.c - see wsframe.h. */
#include "config.h"

#include <string.h>

#include "daemon/wsframe.h"

size_t wsp_frame_text_head(unsigned char *p, size_t len)
{
	p[0] = 0x81;                          /* FIN, text */
	if (len < 126) {
		p[1] = (unsigned char)len;
		return 2;
	}
	if (len < 65536) {
		p[1] = 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		return 4;
	}
	p[1] = 127;
	for (int i = 0; i < 8; i++)
		p[2 + i] = (unsigned char)((unsigned long long)len >> (56 - 8 * i));
	return 10;
}

void wsp_framebuf_init(wsp_framebuf *b, unsigned char *start, size_t cap)
{
	b->start = start;
	b->cap = cap;
	b->len = 0;
}

bool wsp_framebuf_add(wsp_framebuf *b, const void *payload, size_t len, size_t limit)
{
	size_t max = limit < b->cap ? limit : b->cap;

	if (len > max || b->len + WSP_FRAME_HEAD_MAX > max - len)
		return false;
	b->len += wsp_frame_text_head(b->start + b->len, len);
	memcpy(b->start + b->len, payload, len);
	b->len += len;
	return true;
}
