/* lwscheck.c - see lwscheck.h. */
#include "config.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>

#include <ev.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>

#include "daemon/lwscheck.h"
#include "log.h"

int wsp__lwscheck_version_is(const char *have, const char *want)
{
	size_t n = strlen(want);

	if (!have || strncmp(have, want, n) != 0)
		return 0;
	return have[n] == '\0' || have[n] == '-' || have[n] == ' ';
}

static int bound(const char *name, void *ours)
{
	void *found = dlsym(RTLD_DEFAULT, name);

	if (found == ours)
		return 1;
	wsp_err(NULL, "self-check: %s() resolves to %p, not wspulsed's own %p: the libwebsockets "
		"workaround that depends on it is NOT active (%s)", name, found, ours,
		strcmp(name, "ev_timer_start") == 0
		? "lws timers set from a socket callback may fire up to a second late"
		: "WebSocket frames are not pre-checked before lws parses them");
	return 0;
}

int wsp__lwscheck(void)
{
	const char *v = lws_get_library_version();
	int problems = 0;

	if (!wsp__lwscheck_version_is(v, WSP_LWS_WRITTEN_FOR)) {
		wsp_warn(NULL, "self-check: libwebsockets %s is in use, but wspulsed's workarounds for it "
			 "(rxhook.c: recv/SSL_read frame pre-check; evtimer.c: the libev timer re-arm) "
			 "were written and tested for %s only: check them against this version",
			 v ? v : "(unknown)", WSP_LWS_WRITTEN_FOR);
		problems++;
	}
	problems += !bound("recv", (void *)recv);
	problems += !bound("SSL_read", (void *)SSL_read);
	problems += !bound("ev_timer_start", (void *)ev_timer_start);
	if (!problems)
		wsp_debug(NULL, "self-check: libwebsockets %s; recv, SSL_read, ev_timer_start bound to wspulsed's own",
			  v);
	return problems;
}
