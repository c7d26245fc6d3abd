/* fuzz_handshake.c - what a WebSocket upgrade request carries, as
 * newline-separated fields:  URI \n Origin \n Host \n peer \n X-Real-IP \n
 * X-Forwarded-For.  The URI's path goes through the namespace rules
 * (wsp_ns_path_check, wsp_nsreg_find), its query through wsp_query_get
 * (uuid, since), wsp_uuid_parse and wsp_query_id; the headers through the
 * Origin rule, the client-address rule and the trusted-proxy rule. */
#include "config.h"

#include "cidr.h"
#include "conntoken.h"
#include "daemon/access.h"
#include "daemon/nsreg.h"
#include "daemon/query.h"
#include "daemon/uuid.h"
#include "fuzz.h"

static char *trusted[] = { "127.0.0.2", "::1", "unix", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wsp_nsreg reg;
	static char *allowed[] = { "https://example.com", "http://127.0.0.1:8080" };
	char *f[6], val[256], uuid[WSP_UUID_LEN + 1], ip[64];
	const char *q;
	wsp_error err;
	long long id;
	int n;

	if (!reg.n) {
		static int x;

		if (wsp_nsreg_add(&reg, "/api/1/ws/hello-todo", &x, NULL) < 0 ||
		    wsp_nsreg_add(&reg, "/api/1/ws/a/b", &x, NULL) < 0)
			abort();
	}
	for (int i = 0; i < 6; i++)
		f[i] = fuzz_take_line(&data, &size);

	q = strchr(f[0], '?');
	wsp_error_init(&err);
	if (wsp_ns_path_check(f[0], &err) == 0 && q)
		abort(); /* a path with a query is never a namespace path */
	(void)wsp_nsreg_find(&reg, f[0], q ? (size_t)(q - f[0]) : strlen(f[0]));
	if (q) {
		n = wsp_query_get(q + 1, "uuid", val, sizeof(val));
		if (n >= 0) {
			if ((size_t)n >= sizeof(val) || val[n] != '\0')
				abort();
			if (wsp_uuid_parse(val, (size_t)n, uuid) && strlen(uuid) != WSP_UUID_LEN)
				abort();
		}
		n = wsp_query_get(q + 1, "since", val, 24);
		if (n >= 0 && wsp_query_id(val, &id) == 0 && (id < 0 || id > (1LL << 53)))
			abort();
		(void)wsp_query_get(q + 1, "", val, 1);
	}
	(void)wsp_uuid_parse(f[0], strlen(f[0]), NULL);
	(void)wsp_origin_allowed(*f[1] ? f[1] : NULL, *f[2] ? f[2] : NULL, NULL, 0);
	(void)wsp_origin_allowed(f[1], f[2], allowed, 2);
	/* trusted_proxies: the peer against a list, the header values. */
	{
		char *self[] = { f[4], NULL };

		if (!*f[3] && !wsp_cidr_match_any(f[3], trusted))
			abort(); /* an empty peer is a unix socket */
		/* A valid entry that is a plain address (not "unix", not a CIDR
		 * block, which is no peer address) matches itself. */
		if (wsp_cidr_valid(f[4]) && !strchr(f[4], '/') && strcmp(f[4], "unix") != 0 &&
		    !wsp_cidr_match_any(f[4], self))
			abort();
		(void)wsp_conntoken_name_ok(f[4], 64);
		(void)wsp_conntoken_name_ok(f[5], 256);
	}
	if (wsp_client_ip(f[3], *f[4] ? f[4] : NULL, *f[5] ? f[5] : NULL, trusted, ip, sizeof(ip)) != ip ||
	    strlen(ip) >= sizeof(ip))
		abort();
	for (int i = 0; i < 6; i++)
		free(f[i]);
	return 0;
}
