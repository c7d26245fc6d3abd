/* frameguard.c - see frameguard.h. */
#include "config.h"

#include "frameguard.h"

enum {
	FG_HTTP,     /* in the upgrade request, looking for its blank line */
	FG_EARLY,    /* after the request, before the upgrade completed */
	FG_HEAD,     /* reading a frame header */
	FG_DATA,     /* skipping payload */
	FG_CLOSE,    /* checking a close frame's payload */
	FG_BAD       /* a violation was found */
};

void wsp_frameguard_init(wsp_frameguard *g, bool before_upgrade)
{
	*g = (wsp_frameguard){ .state = before_upgrade ? FG_HTTP : FG_HEAD };
}

static int violation(wsp_frameguard *g, int code, const char *why)
{
	g->state = FG_BAD;
	g->code = (uint16_t)code;
	g->why = why;
	return code;
}

int wsp_frameguard_upgraded(wsp_frameguard *g)
{
	if (g->state == FG_BAD)
		return g->code;
	if (g->state == FG_EARLY && g->early)
		return violation(g, WSP_CLOSE_PROTOCOL_ERROR, "data before the handshake answer");
	if (g->state == FG_HTTP || g->state == FG_EARLY) {
		g->state = FG_HEAD;
		g->hpos = 0;
	}
	return 0;
}

/* One byte of a close reason through a UTF-8 decoder that tracks only how
 * many continuation bytes are due and the range the next one must be in
 * (which rules out overlong forms, surrogates and code points over
 * U+10FFFF, as RFC 3629 does).  false: not UTF-8. */
static bool utf8_step(wsp_frameguard *g, unsigned char b)
{
	if (g->u8need) {
		if (b < g->u8lo || b > g->u8hi)
			return false;
		g->u8need--;
		g->u8lo = 0x80;
		g->u8hi = 0xbf;
		return true;
	}
	g->u8lo = 0x80;
	g->u8hi = 0xbf;
	if (b < 0x80)
		return true;
	if (b >= 0xc2 && b <= 0xdf)
		g->u8need = 1;
	else if (b == 0xe0)
		g->u8need = 2, g->u8lo = 0xa0;
	else if (b == 0xed)
		g->u8need = 2, g->u8hi = 0x9f;
	else if (b >= 0xe1 && b <= 0xef)
		g->u8need = 2;
	else if (b == 0xf0)
		g->u8need = 3, g->u8lo = 0x90;
	else if (b >= 0xf1 && b <= 0xf3)
		g->u8need = 3;
	else if (b == 0xf4)
		g->u8need = 3, g->u8hi = 0x8f;
	else
		return false;
	return true;
}

/* The header is complete: what follows it. */
static int header_done(wsp_frameguard *g)
{
	const unsigned char *h = g->hdr;
	unsigned len7 = h[1] & 0x7f;
	uint64_t len = len7;

	if (len7 == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
	} else if (len7 == 127) {
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | h[i];
	}
	g->left = len;
	g->hpos = 0;
	if ((h[0] & 0x0f) == 0x8 && len) {
		g->state = FG_CLOSE;
		g->ppos = 0;
		g->u8need = 0;
	} else {
		g->state = len ? FG_DATA : FG_HEAD;
	}
	return 0;
}

/* One header byte; returns 0 or the violation's close code. */
static int head_byte(wsp_frameguard *g, unsigned char b)
{
	g->hdr[g->hpos++] = b;
	if (g->hpos == 2) {
		unsigned len7 = b & 0x7f;

		if (!(b & 0x80))
			return violation(g, WSP_CLOSE_PROTOCOL_ERROR, "unmasked client frame");
		if ((g->hdr[0] & 0x08) && len7 > 125)
			return violation(g, WSP_CLOSE_PROTOCOL_ERROR, "control frame over 125 bytes");
		g->hlen = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4);
	} else if (g->hpos == 3 && (g->hdr[1] & 0x7f) == 127 && (b & 0x80)) {
		return violation(g, WSP_CLOSE_PROTOCOL_ERROR, "frame length with its top bit set");
	}
	if (g->hpos >= 2 && g->hpos == g->hlen)
		return header_done(g);
	return 0;
}

/* One payload byte of a close frame (masked: the key ends the header).
 * Codes below 3000 that RFC 6455 reserves lws answers with 1002 itself;
 * from 5000 up (no code is defined there) and a 1-byte payload (no code
 * at all) it echoes, so those are refused here. */
static int close_byte(wsp_frameguard *g, unsigned char b)
{
	unsigned char c = b ^ g->hdr[g->hlen - 4 + (g->ppos & 3)];

	if (g->ppos == 0)
		g->code_hi = c;
	else if (g->ppos == 1 && (g->code_hi << 8 | c) >= 5000)
		return violation(g, WSP_CLOSE_PROTOCOL_ERROR, "invalid close code");
	else if (g->ppos >= 2 && !utf8_step(g, c))
		return violation(g, WSP_CLOSE_INVALID_DATA, "close reason is not UTF-8");
	g->ppos++;
	if (--g->left == 0) {
		if (g->ppos == 1)
			return violation(g, WSP_CLOSE_PROTOCOL_ERROR, "close frame with a 1-byte payload");
		if (g->u8need)
			return violation(g, WSP_CLOSE_INVALID_DATA, "close reason is not UTF-8");
		g->state = FG_HEAD;
	}
	return 0;
}

/* One byte of the upgrade request; true at the end of its empty line.
 * hpos: H_START before the request line, H_LINE in a line with content,
 * H_BOL at the start of a line after one, H_CR after a CR there. */
enum { H_START, H_LINE, H_BOL, H_CR };

static bool http_byte(wsp_frameguard *g, unsigned char b)
{
	switch (g->hpos) {
	case H_START:
		if (b != '\r' && b != '\n')
			g->hpos = H_LINE;
		return false;
	case H_LINE:
		if (b == '\n') {
			g->hpos = H_BOL;
			g->rline = 2;
		} else if (g->rline < 2 && (b == '?' || b == '&')) {
			/* A query parameter: the first after the '?', one
			 * more at each '&' after it. */
			if (b == '?' && !g->rline)
				g->rline = 1, g->fields++;
			else if (b == '&' && g->rline)
				g->fields++;
		}
		return false;
	case H_BOL:
		if (b == '\n')
			return true;
		if (b != '\r')
			g->fields++;    /* a header line */
		g->hpos = b == '\r' ? H_CR : H_LINE;
		return false;
	default:                     /* H_CR */
		if (b == '\n')
			return true;
		g->fields++;            /* a header line that starts with a CR */
		g->hpos = H_LINE;
		return false;
	}
}

int wsp_frameguard_feed(wsp_frameguard *g, const unsigned char *p, size_t n, size_t *clean)
{
	size_t i = 0, start = 0;   /* start: where the current frame began in p (0: before p) */
	int code = 0;

	if (g->state == FG_BAD) {
		*clean = 0;
		return g->code;
	}
	while (i < n && !code) {
		switch (g->state) {
		case FG_HTTP:
			/* The request ends at its first empty line, whether lines
			 * end in CRLF or in a bare LF (lws tolerates it); empty lines
			 * before the request line are skipped. */
			if (++g->head > WSP_REQUEST_HEAD_MAX) {
				code = violation(g, WSP_REQUEST_TOO_LARGE, "request headers too large");
				break;
			}
			if (http_byte(g, p[i++])) {
				g->state = FG_EARLY;
				g->hpos = 0;
			} else if (g->fields > WSP_REQUEST_FIELDS_MAX) {
				code = violation(g, WSP_REQUEST_TOO_LARGE, "too many header fields");
			}
			break;
		case FG_EARLY:
			g->early = n - i > UINT32_MAX - g->early ? UINT32_MAX : g->early + (uint32_t)(n - i);
			i = n;
			break;
		case FG_HEAD:
			if (g->hpos == 0)
				start = i;
			code = head_byte(g, p[i++]);
			break;
		case FG_DATA: {
			/* The fast path: payload is skipped by count. */
			uint64_t skip = g->left < n - i ? g->left : n - i;

			i += (size_t)skip;
			g->left -= skip;
			if (!g->left)
				g->state = FG_HEAD;
			break;
		}
		case FG_CLOSE:
			code = close_byte(g, p[i++]);
			break;
		}
	}
	*clean = code ? start : n;
	return code;
}
