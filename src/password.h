/* password.h - slow salted password hashes (yescrypt through libxcrypt).
 *
 * Hashes are the crypt(3) "$y$..." strings; verification re-hashes with the
 * stored setting and compares in constant time.  Both calls are slow on
 * purpose (tens of milliseconds) and thread-safe.
 */
#ifndef WSP_PASSWORD_H
#define WSP_PASSWORD_H

#include "error.h"

/* Hash `password`; returns a new string (wsp_free) or NULL with err set. */
char *wsp_password_hash(const char *password, wsp_error *err);

/* 1 if password matches hash, 0 if not (also for a malformed hash). */
int wsp_password_verify(const char *password, const char *hash);

/* A valid hash of a random password, to spend the same time on logins for
 * unknown users as for known ones.  Static storage; do not free. */
const char *wsp_password_dummy_hash(void);

#endif
