/* password.c - see password.h. */
#include "config.h"

#include <crypt.h>
#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "password.h"
#include "secret.h"
#include "token.h"

char *wsp_password_hash(const char *password, wsp_error *err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	char *h, *out = NULL;

	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt))) {
		wsp_error_set(err, WSP_ERR_INTERNAL, "crypt_gensalt failed (yescrypt unavailable?)");
		return NULL;
	}
	cd = wsp_calloc(1, sizeof(*cd));
	if (!cd) {
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		return NULL;
	}
	h = crypt_rn(password, salt, cd, sizeof(*cd));
	if (h && h[0] == '$')
		out = wsp_strdup(h);
	else
		wsp_error_set(err, WSP_ERR_INTERNAL, "password hashing failed");
	explicit_bzero(cd, sizeof(*cd));
	wsp_free(cd);
	return out;
}

int wsp_password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd = wsp_calloc(1, sizeof(*cd));
	char *h;
	int ok = 0;

	if (!cd)
		return 0;
	h = crypt_rn(password, hash, cd, sizeof(*cd));
	if (h && h[0] == '$')
		ok = wsp_ct_equal(h, strlen(h), hash, strlen(hash));
	explicit_bzero(cd, sizeof(*cd));
	wsp_free(cd);
	return ok;
}

static char *dummy;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	char pw[33];

	wsp_random_hex(pw, 16);
	dummy = wsp_password_hash(pw, NULL);
}

const char *wsp_password_dummy_hash(void)
{
	pthread_once(&dummy_once, make_dummy);
	return dummy ? dummy : "$y$j9T$invalid";
}
