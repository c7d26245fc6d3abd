/* test_frameguard.c - the frame pre-check run before lws parses client bytes. */
#include "config.h"

#include <string.h>

#include "daemon/frameguard.h"
#include "suites.h"

#define OP_TEXT 0x1
#define OP_BIN 0x2
#define OP_CLOSE 0x8
#define OP_PING 0x9

/* Append one client frame to out (masked unless mask is false; the length
 * field says `announce` when it is not (size_t)-1).  Returns its size. */
static size_t frame(unsigned char *out, int op, const void *payload, size_t len, bool mask,
		    unsigned long long announce)
{
	static const unsigned char key[4] = { 0x12, 0x34, 0x56, 0x78 };
	unsigned long long l = announce != (unsigned long long)-1 ? announce : len;
	size_t o = 0;

	out[o++] = (unsigned char)(0x80 | op);
	if (l < 126) {
		out[o++] = (unsigned char)((mask ? 0x80 : 0) | l);
	} else if (l < 65536) {
		out[o++] = (unsigned char)((mask ? 0x80 : 0) | 126);
		out[o++] = (unsigned char)(l >> 8);
		out[o++] = (unsigned char)l;
	} else {
		out[o++] = (unsigned char)((mask ? 0x80 : 0) | 127);
		for (int i = 0; i < 8; i++)
			out[o++] = (unsigned char)(l >> (56 - 8 * i));
	}
	if (mask) {
		memcpy(out + o, key, 4);
		o += 4;
	}
	for (size_t i = 0; i < len; i++)
		out[o + i] = ((const unsigned char *)payload)[i] ^ (mask ? key[i & 3] : 0);
	return o + len;
}

#define NOLEN ((unsigned long long)-1)

/* A close payload: code + reason bytes. */
static size_t close_payload(unsigned char *out, unsigned code, const void *reason, size_t rl)
{
	out[0] = (unsigned char)(code >> 8);
	out[1] = (unsigned char)code;
	memcpy(out + 2, reason, rl);
	return 2 + rl;
}

/* Feed buf whole, then again one byte at a time: both must give `code`,
 * with the violating frame starting at `at` (whole feed only). */
static void expect(const unsigned char *buf, size_t n, int code, size_t at)
{
	wsp_frameguard g;
	size_t clean = 12345;
	int rc = 0;

	wsp_frameguard_init(&g, false);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, buf, n, &clean), code);
	CU_ASSERT_EQUAL(clean, code ? at : n);
	if (code) {
		CU_ASSERT_PTR_NOT_NULL(g.why);
		/* Sticky. */
		CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, buf, n, &clean), code);
		CU_ASSERT_EQUAL(clean, 0);
	}
	wsp_frameguard_init(&g, false);
	for (size_t i = 0; i < n && !rc; i++)
		rc = wsp_frameguard_feed(&g, buf + i, 1, &clean);
	CU_ASSERT_EQUAL(rc, code);
}

static void test_valid_stream(void)
{
	static unsigned char buf[200000], big[70000], cp[130], xs[123];
	size_t n = 0;

	memset(big, 0x88, sizeof(big));   /* payload that looks like close headers */
	n += frame(buf + n, OP_TEXT, "{\"type\":\"ping\"}", 15, true, NOLEN);
	n += frame(buf + n, OP_BIN, big, 300, true, NOLEN);                   /* 16-bit length */
	n += frame(buf + n, OP_TEXT, big, sizeof(big), true, NOLEN);          /* 64-bit length */
	n += frame(buf + n, OP_PING, big, 125, true, NOLEN);
	n += frame(buf + n, OP_CLOSE, "", 0, true, NOLEN);                    /* no code */
	n += frame(buf + n, OP_CLOSE, cp, close_payload(cp, 1000, "bye", 3), true, NOLEN);
	n += frame(buf + n, OP_CLOSE, cp, close_payload(cp, 1000, "\xce\xba\xe2\x82\xac\xf0\x9f\x98\x80", 9), true, NOLEN);
	memset(xs, 'x', sizeof(xs));
	n += frame(buf + n, OP_CLOSE, cp, close_payload(cp, 4000, xs, sizeof(xs)), true, NOLEN);
	expect(buf, n, 0, 0);
}

static void test_unmasked(void)
{
	unsigned char buf[64];
	size_t a = frame(buf, OP_TEXT, "ok", 2, true, NOLEN);
	size_t n = a + frame(buf + a, OP_TEXT, "{}", 2, false, NOLEN);

	expect(buf, n, WSP_CLOSE_PROTOCOL_ERROR, a);
}

static void test_long_control(void)
{
	unsigned char buf[400], p[200], cp[200];

	memset(p, 'a', sizeof(p));
	expect(buf, frame(buf, OP_PING, p, 126, true, NOLEN), WSP_CLOSE_PROTOCOL_ERROR, 0);
	expect(buf, frame(buf, OP_CLOSE, cp, close_payload(cp, 1000, p, 124), true, NOLEN),
	       WSP_CLOSE_PROTOCOL_ERROR, 0);
	/* Announced with the 16-bit form although short. */
	expect(buf, frame(buf, OP_PING, p, 0, true, 126), WSP_CLOSE_PROTOCOL_ERROR, 0);
}

static void test_close_reason_utf8(void)
{
	static const char *const bad[] = {
		"\xff\xfe", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82", "\x80",
		"\xc3", "\xe0\x80\x80", "\xf5\x80\x80\x80",
	};
	unsigned char buf[200], cp[200];
	size_t a = frame(buf, OP_TEXT, "x", 1, true, NOLEN);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = a + frame(buf + a, OP_CLOSE, cp, close_payload(cp, 1000, bad[i], strlen(bad[i])), true, NOLEN);

		expect(buf, n, WSP_CLOSE_INVALID_DATA, a);
	}
}

static void test_close_code(void)
{
	unsigned char buf[64], cp[8];
	size_t a = frame(buf, OP_PING, "x", 1, true, NOLEN);

	expect(buf, a + frame(buf + a, OP_CLOSE, "\x03", 1, true, NOLEN), WSP_CLOSE_PROTOCOL_ERROR, a);
	expect(buf, a + frame(buf + a, OP_CLOSE, cp, close_payload(cp, 5000, "", 0), true, NOLEN),
	       WSP_CLOSE_PROTOCOL_ERROR, a);
	expect(buf, a + frame(buf + a, OP_CLOSE, cp, close_payload(cp, 65535, "ab", 2), true, NOLEN),
	       WSP_CLOSE_PROTOCOL_ERROR, a);
	/* 4999 is the last private code; lws answers the reserved ones below 3000. */
	expect(buf, a + frame(buf + a, OP_CLOSE, cp, close_payload(cp, 4999, "", 0), true, NOLEN), 0, 0);
	expect(buf, a + frame(buf + a, OP_CLOSE, cp, close_payload(cp, 1004, "", 0), true, NOLEN), 0, 0);
}

static void test_length_top_bit(void)
{
	unsigned char buf[64];
	wsp_frameguard g;
	size_t clean;

	expect(buf, frame(buf, OP_TEXT, "", 0, true, 1ULL << 63), WSP_CLOSE_PROTOCOL_ERROR, 0);
	/* 2^62 is a valid length (the daemon's size limit answers it, 1009):
	 * the guard skips what comes of it by count. */
	wsp_frameguard_init(&g, false);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, buf, frame(buf, OP_TEXT, "", 0, true, 1ULL << 62), &clean), 0);
	CU_ASSERT_EQUAL(g.left, 1ULL << 62);
	memset(buf, 0, sizeof(buf));         /* "unmasked" bytes inside the payload */
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, buf, sizeof(buf), &clean), 0);
	CU_ASSERT_EQUAL(g.left, (1ULL << 62) - sizeof(buf));
}

static void test_before_upgrade(void)
{
	static const char req[] = "GET /api/1/ws/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r";
	unsigned char buf[64];
	wsp_frameguard g;
	size_t clean, n;

	/* The request ends in the next read; nothing follows it. */
	wsp_frameguard_init(&g, true);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (const unsigned char *)req, strlen(req), &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (const unsigned char *)"\n", 1, &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_upgraded(&g), 0);
	n = frame(buf, OP_TEXT, "{}", 2, false, NOLEN);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, buf, n, &clean), WSP_CLOSE_PROTOCOL_ERROR);

	/* A frame sent along with the request, before the answer. */
	wsp_frameguard_init(&g, true);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (const unsigned char *)req, strlen(req), &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (const unsigned char *)"\nXY", 3, &clean), 0);
	CU_ASSERT_EQUAL(clean, 3);           /* before the upgrade it only counts */
	CU_ASSERT_EQUAL(g.early, 2);
	CU_ASSERT_EQUAL(wsp_frameguard_upgraded(&g), WSP_CLOSE_PROTOCOL_ERROR);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, buf, n, &clean), WSP_CLOSE_PROTOCOL_ERROR);
	CU_ASSERT_EQUAL(clean, 0);

	/* "\r\n\r" then "\r\n\r\n": the blank line is found after a false start. */
	wsp_frameguard_init(&g, true);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (const unsigned char *)"GET / HTTP/1.1\r\nA: b\r\n\rx\r\n\r\n",
					 28, &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_upgraded(&g), 0);
	n = frame(buf, OP_TEXT, "{}", 2, true, NOLEN);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, buf, n, &clean), 0);

	/* Bare-LF lines (lws accepts them): the empty line still ends the
	 * request, so a frame sent along with it is seen as early. */
	wsp_frameguard_init(&g, true);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (const unsigned char *)"GET / HTTP/1.1\nA: b\n\nXY",
					 23, &clean), 0);
	CU_ASSERT_EQUAL(g.early, 2);
	CU_ASSERT_EQUAL(wsp_frameguard_upgraded(&g), WSP_CLOSE_PROTOCOL_ERROR);

	/* Mixed endings, and an empty line before the request line is not its end. */
	wsp_frameguard_init(&g, true);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (const unsigned char *)"\r\nGET / HTTP/1.1\r\nA: b\n\r\n",
					 25, &clean), 0);
	CU_ASSERT_EQUAL(g.early, 0);
	CU_ASSERT_EQUAL(wsp_frameguard_upgraded(&g), 0);
	n = frame(buf, OP_TEXT, "{}", 2, true, NOLEN);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, buf, n, &clean), 0);
}

/* The upgrade request's head: up to WSP_REQUEST_HEAD_MAX bytes pass, one
 * more is WSP_REQUEST_TOO_LARGE (the daemon answers 431). */
static void test_request_head_limit(void)
{
	static unsigned char big[WSP_REQUEST_HEAD_MAX + 16];
	static const char start[] = "GET / HTTP/1.1\r\nCookie: ";
	wsp_frameguard g;
	size_t clean;

	memset(big, 'a', sizeof(big));
	memcpy(big, start, strlen(start));
	/* Exactly the limit, ending in the blank line: fine. */
	memcpy(big + WSP_REQUEST_HEAD_MAX - 4, "\r\n\r\n", 4);
	wsp_frameguard_init(&g, true);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, big, 1000, &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, big + 1000, WSP_REQUEST_HEAD_MAX - 1000, &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_upgraded(&g), 0);
	/* One byte more before the blank line: too large, in whichever read. */
	memset(big + WSP_REQUEST_HEAD_MAX - 4, 'a', 4);
	memcpy(big + WSP_REQUEST_HEAD_MAX - 3, "\r\n\r\n", 4);
	wsp_frameguard_init(&g, true);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, big, 1000, &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, big + 1000, WSP_REQUEST_HEAD_MAX - 1000, &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, big + WSP_REQUEST_HEAD_MAX, 1, &clean), WSP_REQUEST_TOO_LARGE);
	CU_ASSERT_EQUAL(clean, 0);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, big, 1, &clean), WSP_REQUEST_TOO_LARGE);   /* sticky */
}

/* Header lines plus query parameters: WSP_REQUEST_FIELDS_MAX pass, one more
 * is 431 (lws 4.1.6 drops a request past ~87 of them without an answer),
 * however the request is split into reads. */
static size_t fields_request(char *buf, size_t cap, int params, int lines)
{
	size_t n = (size_t)snprintf(buf, cap, "GET /api/1/ws/x");

	for (int i = 0; i < params; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%ca%d=1", i ? '&' : '?', i);
	n += (size_t)snprintf(buf + n, cap - n, " HTTP/1.1\r\n");
	for (int i = 0; i < lines; i++)
		n += (size_t)snprintf(buf + n, cap - n, "Accept: a&b?c\r\n");   /* '&' and '?' in a header count nothing */
	n += (size_t)snprintf(buf + n, cap - n, "\r\n");
	return n;
}

static void test_request_fields_limit(void)
{
	static char buf[8192];
	static const int split[][2] = { { 0, WSP_REQUEST_FIELDS_MAX }, { WSP_REQUEST_FIELDS_MAX, 0 }, { 20, WSP_REQUEST_FIELDS_MAX - 20 } };
	wsp_frameguard g;
	size_t clean, n;

	for (size_t k = 0; k < sizeof(split) / sizeof(split[0]); k++) {
		n = fields_request(buf, sizeof(buf), split[k][0], split[k][1]);
		wsp_frameguard_init(&g, true);
		CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (unsigned char *)buf, n, &clean), 0);
		CU_ASSERT_EQUAL(wsp_frameguard_upgraded(&g), 0);
		/* One more, in one read and one byte at a time. */
		n = fields_request(buf, sizeof(buf), split[k][0] + (split[k][0] > 0), split[k][1] + (split[k][0] == 0));
		wsp_frameguard_init(&g, true);
		CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (unsigned char *)buf, n, &clean), WSP_REQUEST_TOO_LARGE);
		CU_ASSERT_EQUAL(clean, 0);
		wsp_frameguard_init(&g, true);
		int code = 0;
		for (size_t i = 0; i < n && !code; i++)
			code = wsp_frameguard_feed(&g, (unsigned char *)buf + i, 1, &clean);
		CU_ASSERT_EQUAL(code, WSP_REQUEST_TOO_LARGE);
	}
	/* A '?' or '&' in the path before the query, or a bare '&' query,
	 * and lines ending in a bare LF count the same way. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /x?a HTTP/1.1\n");
	for (int i = 0; i < WSP_REQUEST_FIELDS_MAX - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-Custom-%d: 1\n", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n");
	wsp_frameguard_init(&g, true);
	CU_ASSERT_EQUAL(wsp_frameguard_feed(&g, (unsigned char *)buf, n, &clean), 0);
	CU_ASSERT_EQUAL(wsp_frameguard_upgraded(&g), 0);
}

int test_frameguard_register(void)
{
	CU_pSuite s = CU_add_suite("frameguard", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_valid_stream);
	WSP_ADD_TEST(s, test_unmasked);
	WSP_ADD_TEST(s, test_long_control);
	WSP_ADD_TEST(s, test_close_reason_utf8);
	WSP_ADD_TEST(s, test_close_code);
	WSP_ADD_TEST(s, test_length_top_bit);
	WSP_ADD_TEST(s, test_before_upgrade);
	WSP_ADD_TEST(s, test_request_head_limit);
	WSP_ADD_TEST(s, test_request_fields_limit);
	return 0;
}
