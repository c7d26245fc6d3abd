/* fuzz_json.c - the shared JSON writer (src/json.h): whatever jansson
 * parses, wsp_json_dump writes text that parses back equal (every real to
 * the same double), and without reals exactly as jansson writes it. */
#include "config.h"

#include <jansson.h>

#include "alloc.h"
#include "fuzz.h"
#include "json.h"

static int has_real(const json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_real(j))
		return 1;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			if (has_real(v))
				return 1;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (has_real(v))
				return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL), *back;
	char *ours, *theirs;
	size_t len = 0;

	if (!j)
		return 0;
	ours = wsp_json_dump(j, &len);
	if (!ours || strlen(ours) != len)
		abort();
	back = json_loadb(ours, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!back || !json_equal(j, back))
		abort();
	if (!has_real(j)) {
		theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!theirs || strcmp(ours, theirs) != 0)
			abort();
		free(theirs);
	}
	json_decref(back);
	wsp_free(ours);
	json_decref(j);
	return 0;
}
