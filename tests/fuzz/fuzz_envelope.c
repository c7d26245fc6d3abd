/* fuzz_envelope.c - one client message as wspulsed receives it: parse
 * (wsp_envelope_parse), classify, stamp, serialise again; the same bytes as
 * an outbox payload (wsp_envelope_from_payload) and as error text. */
#include "config.h"

#include "daemon/envelope.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = NULL;
	wsp_error err;
	wsp_msg *m;
	char *text;

	wsp_error_init(&err);
	if (wsp_envelope_parse((const char *)data, size, &j, &err) == 0) {
		if (!json_is_object(j))
			abort();
		(void)wsp_envelope_is_ping(j);
		(void)wsp_envelope_type(j);
		if (wsp_envelope_stamp(j, "fuzzer") == 0) {
			m = wsp_envelope_success(j, 42);
			if (m)
				wsp_msg_unref(m);
		}
		json_decref(j);
	} else if (j || !err.text[0]) {
		abort();
	}
	j = wsp_envelope_from_payload((const char *)data, size, "");
	if (j) {
		m = wsp_envelope_success(j, -1);
		if (m)
			wsp_msg_unref(m);
		json_decref(j);
	}
	/* Error text may echo client bytes (not valid UTF-8, say). */
	text = fuzz_cstr(data, size);
	m = wsp_envelope_error(400, text, NULL);
	if (m)
		wsp_msg_unref(m);
	free(text);
	return 0;
}
