/* fuzz_handshake.c - what a WebSocket upgrade request carries, as
 * newline-separated fields:  URI \n Origin \n Host \n peer \n X-Real-IP \n
 * X-Forwarded-For \n Cookie \n Authorization \n X-Wspulse-User \n
 * X-Wspulse-Roles  (an empty field is an absent header).  The request goes
 * through the daemon's own decision, wsp_hs_decide (hsrules.h), against
 * three namespaces (open, auth, admin role), an Origin allow-list, trusted
 * proxies with trusted_proxy_auth, a session secret and a connection-token
 * key; the verdict's invariants are checked.  The helpers it builds on are
 * held to their own contracts too (the namespace path rule, the query
 * reader, the client-address rule). */
#include "config.h"

#include "cidr.h"
#include "conf.h"
#include "daemon/access.h"
#include "daemon/hsrules.h"
#include "daemon/nsreg.h"
#include "daemon/query.h"
#include "daemon/uuid.h"
#include "fuzz.h"

#define NFIELDS 10

static char *trusted[] = { "127.0.0.2", "::1", "unix", NULL };
static wsp_nsreg reg;
static int ns_open, ns_auth, ns_admin;
static const char *const admin_roles[] = { "admin", NULL };

static wsp_namespace *find(void *arg, const char *path, size_t len, wsp_ns_rules *r)
{
	void *ns = wsp_nsreg_find(&reg, path, len);

	(void)arg;
	r->path = ns == &ns_open ? "/api/1/ws/hello-todo" : ns == &ns_auth ? "/api/1/ws/a/b" : "/api/1/ws/admin";
	r->require_auth = ns && ns != &ns_open;
	r->roles = ns == &ns_admin ? admin_roles : NULL;
	return ns;
}

static void setup(wsp_config *cfg, wsp_secret *secret, wsp_conntoken_key *key)
{
	if (wsp_config_init(cfg) < 0 || wsp_config_set(cfg, "allowed_origins", "https://example.com http://127.0.0.1:8080", NULL) < 0 ||
	    wsp_config_set(cfg, "trusted_proxies", "127.0.0.2 ::1 unix", NULL) < 0 ||
	    wsp_config_set(cfg, "trusted_proxy_auth", "on", NULL) < 0 ||
	    wsp_config_set(cfg, "max_connections_per_ip", "3", NULL) < 0 ||
	    wsp_nsreg_add(&reg, "/api/1/ws/hello-todo", &ns_open, NULL) < 0 ||
	    wsp_nsreg_add(&reg, "/api/1/ws/a/b", &ns_auth, NULL) < 0 ||
	    wsp_nsreg_add(&reg, "/api/1/ws/admin", &ns_admin, NULL) < 0)
		abort();
	memset(secret->key, 7, 32);
	secret->len = 32;
	memset(key->key, 9, 32);
	key->len = 32;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wsp_config cfg;
	static wsp_secret secret;
	static wsp_conntoken_key key;
	static wsp_strmap per_ip, revoked;
	char *f[NFIELDS], val[256], uuid[WSP_UUID_LEN + 1], ip[64], *q;
	wsp_upgrade_req req;
	wsp_hs_env env = { &cfg, &secret, &key, find, NULL, &per_ip, &revoked, 0, false, 1900000000LL };
	wsp_handshake hs;
	wsp_error err;
	long long id;
	int n;

	if (!reg.n) {
		setup(&cfg, &secret, &key);
		wsp_strmap_set(&per_ip, "10.0.0.9", 3);
		wsp_strmap_set(&revoked, "0123456789abcdef0123456789abcdef", 1);
	}
	for (int i = 0; i < NFIELDS; i++)
		f[i] = fuzz_take_line(&data, &size);

	/* The helpers, to their own contracts. */
	q = strchr(f[0], '?');
	wsp_error_init(&err);
	if (wsp_ns_path_check(f[0], &err) == 0 && q)
		abort(); /* a path with a query is never a namespace path */
	if (q) {
		q++;
		n = wsp_query_get(q, "uuid", val, sizeof(val));
		if (n >= 0) {
			if ((size_t)n >= sizeof(val) || val[n] != '\0')
				abort();
			if (wsp_uuid_parse(val, (size_t)n, uuid) && strlen(uuid) != WSP_UUID_LEN)
				abort();
		}
		n = wsp_query_get(q, "since", val, 24);
		if (n >= 0 && wsp_query_id(val, &id) == 0 && (id < 0 || id > (1LL << 53)))
			abort();
		(void)wsp_query_get(q, "", val, 1);
	}
	{
		char *self[] = { f[4], NULL };

		if (!*f[3] && !wsp_cidr_match_any(f[3], trusted))
			abort(); /* an empty peer is a unix socket */
		/* A valid entry that is a plain address (not "unix", not a CIDR
		 * block, which is no peer address) matches itself. */
		if (wsp_cidr_valid(f[4]) && !strchr(f[4], '/') && strcmp(f[4], "unix") != 0 &&
		    !wsp_cidr_match_any(f[4], self))
			abort();
	}
	if (wsp_client_ip(f[3], *f[4] ? f[4] : NULL, *f[5] ? f[5] : NULL, trusted, ip, sizeof(ip)) != ip ||
	    strlen(ip) >= sizeof(ip))
		abort();
	/* The decision itself, on the request as lws hands it over: the path
	 * without its query, absent headers as NULL. */
	q = strchr(f[0], '?');
	if (q)
		*q++ = '\0';
	memset(&req, 0, sizeof(req));
	req.path = f[0];
	req.query = q ? q : "";
	req.origin = *f[1] ? f[1] : NULL;
	req.host = *f[2] ? f[2] : NULL;
	req.peer = f[3];
	req.x_real_ip = *f[4] ? f[4] : NULL;
	req.x_forwarded_for = *f[5] ? f[5] : NULL;
	req.cookie = *f[6] ? f[6] : NULL;
	req.authorization = *f[7] ? f[7] : NULL;
	req.authorization_sent = *f[7] != '\0';
	req.proxy_user = *f[8] ? f[8] : NULL;
	req.proxy_user_sent = *f[8] != '\0';
	req.proxy_roles = *f[9] ? f[9] : NULL;
	req.proxy_roles_sent = *f[9] != '\0';
	env.nclients = (long)(strlen(f[5]) % 4);
	wsp_hs_decide(&env, &req, &hs);
	if (hs.status != 0 && hs.status != 401 && hs.status != 403 && hs.status != 404 &&
	    hs.status != 429 && hs.status != 503)
		abort();
	if (hs.status && !hs.why)
		abort();                          /* every refusal says why */
	if (hs.status != 404 && !hs.ns)
		abort();                          /* only an unknown namespace has none */
	if (!hs.status) {
		if ((hs.ns == (wsp_namespace *)&ns_auth || hs.ns == (wsp_namespace *)&ns_admin) && !hs.has_user)
			abort();                  /* auth required, and nobody let in */
		if (hs.ns == (wsp_namespace *)&ns_admin && !wsp_roles_has(hs.user.roles, "admin"))
			abort();
		if (hs.has_user && (!hs.user.name[0] || strcmp(hs.user.sid, "0123456789abcdef0123456789abcdef") == 0))
			abort();                  /* a user has a name; a revoked session is no user */
		if (hs.id[0] && strlen(hs.id) != WSP_UUID_LEN)
			abort();
		if (hs.since < -1 || hs.since > (1LL << 53))
			abort();
		if (strlen(hs.ip) >= sizeof(hs.ip) || (strcmp(hs.ip, "10.0.0.9") == 0))
			abort();                  /* that address is at its cap */
	}

	for (int i = 0; i < NFIELDS; i++)
		free(f[i]);
	return 0;
}
