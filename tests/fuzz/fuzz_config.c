/* fuzz_config.c - the config file parser (wsp_config_parse) and the
 * `namespace =` declarations it carries (wsp_nsdef_parse). */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "daemon/nsreg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	wsp_config cfg;
	wsp_error err;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (wsp_config_init(&cfg) < 0)
		abort();
	wsp_error_init(&err);
	if (wsp_config_parse(&cfg, (const char *)data, size, "fuzz.conf", &err) == 0) {
		wsp_config_dump(&cfg, devnull);
		for (int i = 0; i < cfg.namespaces.n; i++) {
			wsp_nsdef def;
			wsp_error e;

			wsp_error_init(&e);
			memset(&def, 0, sizeof(def));
			if (wsp_nsdef_parse(cfg.namespaces.v[i], &def, &e) == 0)
				wsp_nsdef_cleanup(&def);
		}
	} else if (!err.code || !err.text[0]) {
		abort(); /* a refusal always says why */
	}
	wsp_config_cleanup(&cfg);
	return 0;
}
