/* reasm.h - one client's incoming message, reassembled from the pieces lws
 * hands over (a frame may arrive in several reads, a message in several
 * frames), with the two limits: max_frame_bytes (a message that passes it
 * closes the socket 1009) and max_message_bytes (one that passes it is
 * answered 413 and dropped, the socket stays).  Pure, caller-owned. */
#ifndef WSP_REASM_H
#define WSP_REASM_H

#include <stdbool.h>
#include <stddef.h>

/* One per client; zero-initialised is empty. */
typedef struct wsp_reasm {
	char *buf;                   /* the message so far, NUL-terminated when whole */
	size_t len, cap;
	size_t total;                /* bytes of the message seen, kept or not */
	bool oversize;               /* passed max_message: nothing kept */
} wsp_reasm;

enum {
	WSP_REASM_MORE = 0,          /* the message goes on */
	WSP_REASM_DONE = 1,          /* whole: buf/len, or oversize */
	WSP_REASM_TOO_BIG = -1,      /* past max_frame: close the socket 1009 */
	WSP_REASM_NOMEM = -2,
};

/* Feed len bytes at `in`: `first` begins a message, `final` and remaining
 * (bytes of this frame lws has not delivered yet) 0 end it.  After DONE
 * the caller reads the message and calls wsp_reasm_done. */
int wsp_reasm_feed(wsp_reasm *r, const char *in, size_t len, bool first, bool final, size_t remaining,
		   size_t max_frame, size_t max_message);
/* The message was handled: empty again (a large buffer is given back). */
void wsp_reasm_done(wsp_reasm *r);
void wsp_reasm_cleanup(wsp_reasm *r);

#endif
