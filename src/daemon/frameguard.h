/* frameguard.h - a pre-check of the bytes a WebSocket client sends, before
 * libwebsockets parses them.
 *
 * libwebsockets 4.1.6 gets a few RFC 6455 violations wrong: it accepts
 * unmasked client frames, and it drops the TCP connection without a close
 * frame on a control frame over 125 bytes, on a close reason that is not
 * UTF-8 and on a 64-bit length with its top bit set; it echoes close codes
 * from 5000 up and a 1-byte close payload.  wspulsed cannot fix
 * that from its callbacks (lws never calls them for these), so it runs every
 * byte it reads from an established WebSocket through this parser first
 * (rxhook.c) and, on a violation, closes with the code RFC 6455 asks for.
 *
 * The parser is a state machine over the byte stream, one per connection,
 * fed whatever each read returned (a frame may be split anywhere).  It
 * looks at frame headers only and skips payload bytes by count, except for
 * close frames (at most 125 bytes), which it unmasks to check the code
 * (1-byte payload, 5000 and up) and the reason's UTF-8.  Everything else
 * (reserved bits and opcodes, fragmentation rules, reserved close codes
 * below 3000, UTF-8 of text messages, size limits) lws and client.c already
 * answer correctly, and this parser leaves to them.
 *
 * A guard can also start before the upgrade: it then skips the HTTP request
 * up to its blank line (failing with WSP_REQUEST_TOO_LARGE when the request
 * line and headers pass WSP_REQUEST_HEAD_MAX bytes, or the header lines and
 * query parameters together pass WSP_REQUEST_FIELDS_MAX: the caller answers
 * HTTP 431) and counts any byte that follows it.  A client must
 * wait for the server's "101" before it sends a frame (RFC 6455 4.1), so a
 * byte there is a violation too (wsp_frameguard_upgraded), and it is the
 * only way the frames could be misaligned with the parser.
 *
 * Pure: no lws, no allocation; time and I/O belong to the caller.
 */
#ifndef WSP_FRAMEGUARD_H
#define WSP_FRAMEGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Close codes (RFC 6455 7.4.1) the guard answers with. */
#define WSP_CLOSE_PROTOCOL_ERROR 1002
#define WSP_CLOSE_INVALID_DATA   1007
/* Not a close code: the upgrade request's head is too large (HTTP 431). */
#define WSP_REQUEST_TOO_LARGE    431
/* The largest upgrade request head (request line, headers, blank line)
 * accepted: nginx's default large_client_header_buffers take header lines
 * up to 8 KB, so a cookie that big plus the usual headers fits.  The lws
 * header table is sized above it (proto.c), so lws never runs out first. */
#define WSP_REQUEST_HEAD_MAX     16384
/* The most header lines plus query parameters (each '&'-separated piece
 * after the '?') accepted.  lws 4.1.6 keeps one slot per header line it
 * knows and per query parameter in a fixed table of about 90 (the URI takes
 * one) and drops the connection without a word when it is full (measured:
 * 87 repeated Accept lines pass, 88 do not); a browser sends 10-20 lines and
 * nginx adds a few.  Counting every line, also those lws keeps elsewhere,
 * keeps the count an upper bound of lws's. */
#define WSP_REQUEST_FIELDS_MAX   64

/* One per connection; caller-owned, no resources (nothing to clean up). */
typedef struct wsp_frameguard {
	uint64_t left;          /* payload bytes of the current frame still to come */
	uint32_t early;         /* bytes after the upgrade request, before wsp_frameguard_upgraded */
	uint32_t head;          /* bytes of the upgrade request seen */
	uint16_t fields;        /* its header lines and query parameters so far */
	uint8_t rline;          /* in its request line: 0 before the '?', 1 after, 2 done */
	uint16_t code;          /* 0, or the close code of the violation (sticky) */
	uint8_t state;          /* internal */
	uint8_t hpos, hlen;     /* header bytes seen / expected */
	uint8_t hdr[14];        /* the header being read */
	uint8_t ppos;           /* close frame: payload bytes seen (at most 125) */
	uint8_t code_hi;        /* close frame: the first byte of its code */
	uint8_t u8need, u8lo, u8hi;  /* close reason: the UTF-8 decoder */
	const char *why;        /* static text for the close frame and the log, or NULL */
} wsp_frameguard;

/* Start a guard.  before_upgrade: the stream begins with the HTTP upgrade
 * request (the guard skips to its blank line); false: the stream begins at
 * a frame boundary. */
void wsp_frameguard_init(wsp_frameguard *g, bool before_upgrade);

/* The upgrade completed (the server sent 101): frames start here.  Returns
 * 0, or WSP_CLOSE_PROTOCOL_ERROR (and records it, see `why`) when the client
 * sent bytes after its request before the answer.  A guard that never saw
 * the end of the request (it started late) is taken to be at a frame
 * boundary. */
int wsp_frameguard_upgraded(wsp_frameguard *g);

/* Check the next n bytes the client sent.  Returns 0 when they are all
 * fine (then *clean = n), else the close code (1002 or 1007; `why` says
 * what) and *clean = the number of leading bytes that belong to frames
 * before the offending one (they may be handed on; the rest must not be),
 * or, in the upgrade request, WSP_REQUEST_TOO_LARGE with *clean = 0.
 * Once a violation is found every later call returns the same code with
 * *clean = 0.  Cost: a few operations per header byte and per close-frame
 * byte, O(1) for any run of data payload. */
int wsp_frameguard_feed(wsp_frameguard *g, const unsigned char *p, size_t n, size_t *clean);

#endif
