/* uuid.c - see uuid.h. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>

#include "error.h"
#include "secret.h"
#include "uuid.h"

int wsp_uuid_parse(const char *s, size_t len, char *out)
{
	if (!s || len != WSP_UUID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	if (out) {
		for (size_t i = 0; i < len; i++)
			out[i] = (char)tolower((unsigned char)s[i]);
		out[len] = '\0';
	}
	return 1;
}

int wsp_uuid_v4(char *out)
{
	unsigned char b[16];

	if (wsp_random_bytes(b, sizeof(b)) < 0)
		return WSP_ERR_IO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, WSP_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}
