/* secret.h - the server secret: the key that signs session cookies.
 *
 * The secret file holds at least 64 hex digits (32 bytes), optionally
 * followed by a newline.  A world-readable key lets anyone forge a login, so
 * a secret file (this one, the API token file) must be a regular file owned
 * by root or by the user reading it, with mode 0600 or stricter - or 0640
 * when its group is one the reading process is in (the `wspulse` group that
 * holds the daemon's user and the web server's, so both may read one file;
 * see SECURITY.md).  Anything else stops start-up with a message saying how
 * to fix it.
 */
#ifndef WSP_SECRET_H
#define WSP_SECRET_H

#include <stddef.h>
#include <sys/stat.h>

#include "error.h"

#define WSP_SECRET_MIN 32
#define WSP_SECRET_MAX 128

/* One per program; caller-owned. */
typedef struct wsp_secret {
	unsigned char key[WSP_SECRET_MAX];
	size_t len;
} wsp_secret;

/* Check an open secret file's st (from fstat) for the rules above.  `what`
 * names it in the message ("secret file").  Returns 0, WSP_ERR_IO (not a
 * regular file) or WSP_ERR_FORBIDDEN (owner or mode), with the fix in err. */
int wsp_secret_check_stat(const struct stat *st, const char *path, const char *what, wsp_error *err);

/* Load and check `path`.  Returns 0, WSP_ERR_IO (unreadable), WSP_ERR_FORBIDDEN
 * (mode too open) or WSP_ERR_INVALID (not hex / too short). */
int wsp_secret_load(wsp_secret *s, const char *path, wsp_error *err);

/* Create `path` (mode 0600, must not exist) with 32 fresh random bytes as hex.
 * Returns 0, WSP_ERR_EXISTS or WSP_ERR_IO. */
int wsp_secret_generate(const char *path, wsp_error *err);

/* Fill buf with n cryptographically random bytes (getrandom).  0 or WSP_ERR_IO. */
int wsp_random_bytes(void *buf, size_t n);

/* Write n random bytes as 2n lowercase hex digits plus NUL into out. */
int wsp_random_hex(char *out, size_t nbytes);

#endif
