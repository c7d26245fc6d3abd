/* b64url.h - unpadded base64url (RFC 4648, section 5): the alphabet
 * A-Z a-z 0-9 - _ with no '=' padding, as session cookies (token.h) and
 * connection tokens (conntoken.h) carry their parts.  Pure functions, no
 * allocation.
 */
#ifndef WSP_B64URL_H
#define WSP_B64URL_H

#include <stddef.h>

/* Encode n bytes into out, which must hold (n + 2) / 3 * 4 + 1 chars; out
 * is NUL-terminated.  Returns the number of chars written (without the NUL). */
size_t wsp_b64url_encode(const unsigned char *in, size_t n, char *out);

/* Decode n chars into at most outsz bytes.  Returns the byte count, or -1
 * for a character outside the alphabet, an impossible length (n % 4 == 1),
 * non-zero bits past the last byte (so each value has one encoding) or a
 * result longer than outsz. */
long wsp_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outsz);

#endif
