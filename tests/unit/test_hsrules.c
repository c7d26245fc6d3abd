/* test_hsrules.c - the upgrade decision (hsrules.h), called as the daemon
 * calls it: one rule at a time and their order. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "daemon/hsrules.h"
#include "suites.h"

#define NOW 1900000000LL

static wsp_config cfg;
static wsp_secret secret;
static wsp_conntoken_key tkey;
static wsp_strmap per_ip, revoked;
static const char *const admin_roles[] = { "admin", NULL };
/* Stand-ins for the daemon's namespaces: only their addresses matter. */
static int ns_open, ns_auth, ns_admin;

static wsp_namespace *find(void *arg, const char *path, size_t len, wsp_ns_rules *r)
{
	(void)arg;
	r->roles = NULL;
	r->require_auth = false;
	if (len == strlen("/api/1/ws/open") && strncmp(path, "/api/1/ws/open", len) == 0) {
		r->path = "/api/1/ws/open";
		return (wsp_namespace *)&ns_open;
	}
	if (len == strlen("/api/1/ws/auth") && strncmp(path, "/api/1/ws/auth", len) == 0) {
		r->path = "/api/1/ws/auth";
		r->require_auth = true;
		return (wsp_namespace *)&ns_auth;
	}
	if (len == strlen("/api/1/ws/admin") && strncmp(path, "/api/1/ws/admin", len) == 0) {
		r->path = "/api/1/ws/admin";
		r->require_auth = true;
		r->roles = admin_roles;
		return (wsp_namespace *)&ns_admin;
	}
	return NULL;
}

static wsp_hs_env env(void)
{
	wsp_hs_env e = { &cfg, &secret, NULL, find, NULL, &per_ip, &revoked, 0, false, NOW };

	return e;
}

static wsp_upgrade_req req(const char *path)
{
	wsp_upgrade_req r;

	memset(&r, 0, sizeof(r));
	r.path = path;
	r.query = "";
	r.host = "a.example";
	r.peer = "10.0.0.1";
	return r;
}

/* "wsp_session=<a signed cookie for user with roles>". */
static const char *cookie(const char *sid, const char *user, const char *roles, long long exp)
{
	static char buf[WSP_TOKEN_MAX + 32];
	wsp_token t;
	int n;

	memset(&t, 0, sizeof(t));
	snprintf(t.sid, sizeof(t.sid), "%s", sid);
	snprintf(t.username, sizeof(t.username), "%s", user);
	snprintf(t.roles, sizeof(t.roles), "%s", roles);
	t.exp = exp;
	n = snprintf(buf, sizeof(buf), "other=1; " WSP_SESSION_COOKIE "=");
	CU_ASSERT_FATAL(wsp_token_sign(&secret, &t, buf + n, sizeof(buf) - (size_t)n) > 0);
	return buf;
}

static int setup(void)
{
	wsp_error err;

	wsp_error_init(&err);
	if (wsp_config_init(&cfg) < 0 || wsp_config_set(&cfg, "max_connections", "5", &err) < 0 ||
	    wsp_config_set(&cfg, "max_connections_per_ip", "2", &err) < 0 ||
	    wsp_config_set(&cfg, "trusted_proxies", "127.0.0.1", &err) < 0 ||
	    wsp_config_set(&cfg, "trusted_proxy_auth", "on", &err) < 0)
		return 1;
	memset(secret.key, 7, 32);
	secret.len = 32;
	memset(tkey.key, 9, 32);
	tkey.len = 32;
	wsp_strmap_init(&per_ip);
	wsp_strmap_init(&revoked);
	return 0;
}

static int teardown(void)
{
	wsp_strmap_cleanup(&per_ip);
	wsp_strmap_cleanup(&revoked);
	wsp_config_cleanup(&cfg);
	return 0;
}

static void test_accept_anonymous(void)
{
	wsp_hs_env e = env();
	wsp_upgrade_req r = req("/api/1/ws/open");
	wsp_handshake hs;

	r.query = "uuid=0b0e3f7a-9c4d-4e2a-8f61-2d3c4b5a6978&since=41";
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 0);
	CU_ASSERT_PTR_EQUAL(hs.ns, (wsp_namespace *)&ns_open);
	CU_ASSERT_FALSE(hs.has_user);
	CU_ASSERT_STRING_EQUAL(hs.ip, "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(hs.id, "0b0e3f7a-9c4d-4e2a-8f61-2d3c4b5a6978");
	CU_ASSERT_EQUAL(hs.since, 41);
	r.query = "uuid=nope&since=-3";
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 0);
	CU_ASSERT_STRING_EQUAL(hs.id, "");    /* the caller makes a fresh one */
	CU_ASSERT_EQUAL(hs.since, -1);
}

static void test_order_of_refusals(void)
{
	wsp_hs_env e = env();
	wsp_upgrade_req r = req("/api/1/ws/nowhere");
	wsp_handshake hs;

	e.stopping = true;
	wsp_hs_decide(&e, &r, &hs);               /* 404 before 503 */
	CU_ASSERT_EQUAL(hs.status, 404);
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_UNKNOWN_NAMESPACE);   /* what the metrics count */
	CU_ASSERT_STRING_EQUAL(hs.ip, "10.0.0.1");   /* every refusal's log line names the address */
	r.path = NULL;                            /* no path, or too long for the caller */
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 404);
	CU_ASSERT_STRING_EQUAL(hs.ip, "10.0.0.1");
	r.ws_key_bad = true;                      /* lws would drop it without an answer */
	wsp_hs_decide(&e, &r, &hs);               /* 400 before 404 */
	CU_ASSERT_EQUAL(hs.status, 400);
	CU_ASSERT_STRING_EQUAL(hs.why, "bad Sec-WebSocket-Key");
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_OTHER);
	CU_ASSERT_STRING_EQUAL(hs.ip, "10.0.0.1");
	r.ws_key_bad = false;
	r.path = "/api/1/ws/open";
	r.origin = "https://evil.example";
	wsp_hs_decide(&e, &r, &hs);               /* 503 (stopping) before the Origin */
	CU_ASSERT_EQUAL(hs.status, 503);
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_SHUTTING_DOWN);
	CU_ASSERT_STRING_EQUAL(hs.ip, "10.0.0.1");
	e.stopping = false;
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 403);
	CU_ASSERT_STRING_EQUAL(hs.why, "origin not allowed");
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_ORIGIN);
	CU_ASSERT_STRING_EQUAL(hs.ip, "10.0.0.1");
	r.origin = "http://a.example";            /* same site as Host */
	e.nclients = 5;
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 503);
	CU_ASSERT_STRING_EQUAL(hs.why, "too many connections");
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_CAPACITY);
	e.nclients = 4;
	wsp_strmap_set(&per_ip, "10.0.0.1", 2);
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 429);
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_PER_ADDRESS);
	r.peer = "10.0.0.2";
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 0);
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_OTHER);
	wsp_strmap_cleanup(&per_ip);
}

static void test_forwarded_address_only_from_trusted(void)
{
	wsp_hs_env e = env();
	wsp_upgrade_req r = req("/api/1/ws/open");
	wsp_handshake hs;

	r.x_real_ip = "192.0.2.7";
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_STRING_EQUAL(hs.ip, "10.0.0.1");   /* not a trusted peer: its own address */
	r.peer = "127.0.0.1";
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_STRING_EQUAL(hs.ip, "192.0.2.7");
}

static void test_session_cookie(void)
{
	wsp_hs_env e = env();
	wsp_upgrade_req r = req("/api/1/ws/auth");
	wsp_handshake hs;

	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 401);
	CU_ASSERT_STRING_EQUAL(hs.why, "not logged in");
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_UNAUTHORIZED);
	r.cookie = cookie("0123456789abcdef0123456789abcdef", "ann", "user", NOW + 60);
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 0);
	CU_ASSERT_TRUE(hs.has_user);
	CU_ASSERT_STRING_EQUAL(hs.user.name, "ann");
	CU_ASSERT_STRING_EQUAL(hs.user.sid, "0123456789abcdef0123456789abcdef");
	CU_ASSERT_FALSE(hs.user.token);
	wsp_strmap_set(&revoked, "0123456789abcdef0123456789abcdef", 1);
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 401);          /* revoked */
	wsp_strmap_cleanup(&revoked);
	r.cookie = cookie("0123456789abcdef0123456789abcdef", "ann", "user", NOW - 1);
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 401);          /* expired */
	r.path = "/api/1/ws/admin";
	r.cookie = cookie("0123456789abcdef0123456789abcdef", "ann", "user", NOW + 60);
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 403);
	CU_ASSERT_STRING_EQUAL(hs.why, "role missing");
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_ROLE);
	r.cookie = cookie("0123456789abcdef0123456789abcdef", "ann", "user,admin", NOW + 60);
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 0);
}

static void test_connection_token(void)
{
	wsp_hs_env e = env();
	wsp_upgrade_req r = req("/api/1/ws/auth");
	wsp_handshake hs;
	char tok[WSP_CONNTOKEN_MAX], q[WSP_CONNTOKEN_MAX + 16], payload[160], authz[WSP_CONNTOKEN_MAX + 16];

	snprintf(payload, sizeof(payload), "{\"sub\":\"bob\",\"exp\":%lld,\"roles\":[\"admin\"],\"ns\":[\"/api/1/ws/auth\"]}",
		 NOW + 60);
	CU_ASSERT_FATAL(wsp_conntoken_sign(&tkey, payload, tok, sizeof(tok)) > 0);
	snprintf(q, sizeof(q), "token=%s", tok);
	r.query = q;
	r.cookie = cookie("0123456789abcdef0123456789abcdef", "ann", "user", NOW + 60);
	wsp_hs_decide(&e, &r, &hs);               /* no token_secret_file: refused, never ignored */
	CU_ASSERT_EQUAL(hs.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(hs.detail, "token_secret_file"));
	/* Counted as not logged in, though the log line gives the detail
	 * (the metrics once matched the logged text and called it "other"). */
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_UNAUTHORIZED);
	e.token_key = &tkey;
	wsp_hs_decide(&e, &r, &hs);               /* the token wins over the cookie */
	CU_ASSERT_EQUAL(hs.status, 0);
	CU_ASSERT_STRING_EQUAL(hs.user.name, "bob");
	CU_ASSERT_TRUE(hs.user.token);
	CU_ASSERT_EQUAL(hs.user.exp, NOW + 60);
	r.path = "/api/1/ws/admin";               /* not in its ns claim */
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 403);
	CU_ASSERT_EQUAL(hs.refusal, WSP_REFUSED_ROLE);
	r.path = "/api/1/ws/auth";
	r.query = "";
	snprintf(authz, sizeof(authz), "Bearer %s", tok);
	r.authorization = authz;
	r.authorization_sent = true;
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 0);
	CU_ASSERT_STRING_EQUAL(hs.user.name, "bob");
	r.authorization = NULL;                   /* sent, but too long to read */
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 401);
	r.authorization = "Basic Ym9iOng=";       /* another scheme: the cookie decides */
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 0);
	CU_ASSERT_STRING_EQUAL(hs.user.name, "ann");
}

static void test_front_server_user(void)
{
	wsp_hs_env e = env();
	wsp_upgrade_req r = req("/api/1/ws/auth");
	wsp_handshake hs;

	r.proxy_user = "carol";
	r.proxy_user_sent = true;
	wsp_hs_decide(&e, &r, &hs);               /* from 10.0.0.1: ignored, with a note */
	CU_ASSERT_EQUAL(hs.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(hs.note, "not in trusted_proxies"));
	r.peer = "127.0.0.1";
	r.proxy_roles = "admin";
	r.proxy_roles_sent = true;
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 0);
	CU_ASSERT_STRING_EQUAL(hs.user.name, "carol");
	CU_ASSERT_STRING_EQUAL(hs.user.roles, "admin");
	r.proxy_user = "bad,name";
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 401);
	r.proxy_user = "";                         /* the front server found no session */
	wsp_hs_decide(&e, &r, &hs);
	CU_ASSERT_EQUAL(hs.status, 401);
	CU_ASSERT_STRING_EQUAL(hs.why, "not logged in");
}

int test_hsrules_register(void)
{
	CU_pSuite s = CU_add_suite("hsrules", setup, teardown);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_accept_anonymous);
	WSP_ADD_TEST(s, test_order_of_refusals);
	WSP_ADD_TEST(s, test_forwarded_address_only_from_trusted);
	WSP_ADD_TEST(s, test_session_cookie);
	WSP_ADD_TEST(s, test_connection_token);
	WSP_ADD_TEST(s, test_front_server_user);
	return 0;
}
