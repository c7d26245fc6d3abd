/* fuzz.h - helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each target is one file defining LLVMFuzzerTestOneInput; it is built with
 * clang -fsanitize=fuzzer,address,undefined against the project's own
 * sources (see tests/fuzz/local.mk), so a bad read, a leak or undefined
 * behaviour in the code under test stops the fuzzer with a reproducer.
 */
#ifndef WSP_FUZZ_H
#define WSP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated heap copy of data (embedded NULs end the string early,
 * as they would for a C string the program receives). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split data at the first '\n' (or at the end): *rest gets the remainder.
 * Returns a NUL-terminated heap copy of the first part. */
static inline char *fuzz_take_line(const uint8_t **data, size_t *size)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t n = nl ? (size_t)(nl - *data) : *size;
	char *s = fuzz_cstr(*data, n);

	*data += nl ? n + 1 : n;
	*size -= nl ? n + 1 : n;
	return s;
}

#endif
