/* reasm.c - see reasm.h. */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "daemon/reasm.h"

#define KEEP_MAX 16384   /* a larger buffer is not kept between messages */

int wsp_reasm_feed(wsp_reasm *r, const char *in, size_t len, bool first, bool final, size_t remaining,
		   size_t max_frame, size_t max_message)
{
	if (first) {
		r->len = r->total = 0;
		r->oversize = false;
	}
	r->total += len;
	if (r->total + remaining > max_frame)
		return WSP_REASM_TOO_BIG;
	if (r->total > max_message) {
		r->oversize = true;
		r->len = 0;
	} else if (len) {
		if (r->len + len + 1 > r->cap) {
			/* A message in one piece gets exactly its size; one in
			 * several some room to grow. */
			size_t ncap = r->len + len + 1 + (first && final ? 0 : 4096);
			char *p = wsp_realloc(r->buf, ncap);

			if (!p)
				return WSP_REASM_NOMEM;
			r->buf = p;
			r->cap = ncap;
		}
		memcpy(r->buf + r->len, in, len);
		r->len += len;
		r->buf[r->len] = '\0';
	}
	return final && remaining == 0 ? WSP_REASM_DONE : WSP_REASM_MORE;
}

void wsp_reasm_done(wsp_reasm *r)
{
	r->len = r->total = 0;
	r->oversize = false;
	if (r->cap > KEEP_MAX) {
		wsp_free(r->buf);
		r->buf = NULL;
		r->cap = 0;
	}
}

void wsp_reasm_cleanup(wsp_reasm *r)
{
	wsp_free(r->buf);
	memset(r, 0, sizeof(*r));
}
