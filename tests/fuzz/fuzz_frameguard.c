/* fuzz_frameguard.c - the frame pre-check (src/daemon/frameguard.c) on
 * arbitrary client bytes.  The first input byte chooses whether the stream
 * starts with the HTTP request and how the rest is cut into reads; the rest
 * is the stream.  The same stream is fed whole and in those pieces: the
 * verdict, the code and the parser's position must not depend on where the
 * reads end, `clean` never passes the bytes fed, and a violation is sticky. */
#include "config.h"

#include "daemon/frameguard.h"
#include "fuzz.h"

static int run(wsp_frameguard *g, bool http, const uint8_t *p, size_t n, unsigned cut,
	       size_t *passed)
{
	size_t off = 0, clean;
	int code = 0;
	unsigned x = cut * 2654435761u + 1;

	wsp_frameguard_init(g, http);
	*passed = 0;
	while (off < n && !code) {
		size_t k = cut ? 1 + (x >> 24) % (cut * 8) : n - off;

		x = x * 1103515245u + 12345u;
		if (k > n - off)
			k = n - off;
		/* The request ends somewhere: call it upgraded after the
		 * first read, as ESTABLISHED would come. */
		code = wsp_frameguard_feed(g, p + off, k, &clean);
		if (clean > k || (!code && clean != k) || (code && !g->why))
			abort();
		*passed += clean;
		off += k;
		if (http && !code && off == k)
			code = wsp_frameguard_upgraded(g);
	}
	if (code) {
		if (wsp_frameguard_feed(g, p, n, &clean) != code || clean != 0)
			abort();
		/* (An upgrade request's head over WSP_REQUEST_HEAD_MAX is the
		 * third verdict, answered 431.) */
		if (code != WSP_CLOSE_PROTOCOL_ERROR && code != WSP_CLOSE_INVALID_DATA &&
		    !(http && code == WSP_REQUEST_TOO_LARGE))
			abort();
	}
	return code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wsp_frameguard a, b;
	size_t pa, pb;
	bool http;
	unsigned cut;

	if (size < 1)
		return 0;
	http = data[0] & 1;
	cut = (data[0] >> 1) & 0x7f;
	data++;
	size--;
	if (http) {
		/* The first read ends the request in both runs (upgraded() is
		 * called after it), so the cut must be the same there. */
		(void)run(&a, true, data, size, cut, &pa);
		return 0;
	}
	if (run(&a, false, data, size, 0, &pa) != run(&b, false, data, size, cut, &pb))
		abort();
	if (a.left != b.left || a.state != b.state || a.code != b.code)
		abort();
	/* Whole: clean is the start of the offending frame; in pieces, the
	 * bytes of that frame in earlier reads were already passed. */
	if (pb < pa)
		abort();
	return 0;
}
