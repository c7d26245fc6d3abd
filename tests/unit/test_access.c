/* test_access.c - the Origin rule and the client address. */
#include "config.h"

#include "cidr.h"
#include "conntoken.h"
#include "daemon/access.h"
#include "suites.h"

static void test_origin_host_rule(void)
{
	CU_ASSERT_TRUE(wsp_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", NULL, 0));
	CU_ASSERT_TRUE(wsp_origin_allowed("https://Example.com", "example.com", NULL, 0));
	CU_ASSERT_TRUE(wsp_origin_allowed("https://example.com:443", "example.com", NULL, 0));
	CU_ASSERT_TRUE(wsp_origin_allowed("http://example.com", "example.com:80", NULL, 0));
	CU_ASSERT_FALSE(wsp_origin_allowed("http://evil.example", "example.com", NULL, 0));
	CU_ASSERT_FALSE(wsp_origin_allowed("http://example.com:8080", "example.com", NULL, 0));
	CU_ASSERT_FALSE(wsp_origin_allowed("http://example.com.evil", "example.com", NULL, 0));
	CU_ASSERT_FALSE(wsp_origin_allowed("null", "example.com", NULL, 0));
	CU_ASSERT_FALSE(wsp_origin_allowed("http://example.com", NULL, NULL, 0));
	CU_ASSERT_TRUE(wsp_origin_allowed(NULL, "example.com", NULL, 0));   /* not a browser */
}

static void test_origin_list(void)
{
	char *list[] = { "https://a.example", "https://b.example/" };
	char *star[] = { "*" };

	CU_ASSERT_TRUE(wsp_origin_allowed("https://a.example", "x", list, 2));
	CU_ASSERT_TRUE(wsp_origin_allowed("https://B.example", "x", list, 2));
	CU_ASSERT_FALSE(wsp_origin_allowed("http://a.example", "a.example", list, 2));
	CU_ASSERT_FALSE(wsp_origin_allowed("https://c.example", "c.example", list, 2));
	CU_ASSERT_TRUE(wsp_origin_allowed("https://c.example", "x", star, 1));
}

static void test_client_ip(void)
{
	char buf[64];
	char *const local[] = { "127.0.0.0/8", "::1", "unix", NULL };

	CU_ASSERT_STRING_EQUAL(wsp_client_ip("127.0.0.1", "203.0.113.9", "1.1.1.1", local, buf, sizeof(buf)), "203.0.113.9");
	CU_ASSERT_STRING_EQUAL(wsp_client_ip("127.0.0.1", NULL, "10.0.0.1, 203.0.113.7", local, buf, sizeof(buf)), "203.0.113.7");
	CU_ASSERT_STRING_EQUAL(wsp_client_ip("", NULL, "198.51.100.1", local, buf, sizeof(buf)), "198.51.100.1");
	CU_ASSERT_STRING_EQUAL(wsp_client_ip("::1", NULL, NULL, local, buf, sizeof(buf)), "::1");
	/* A remote peer cannot choose its address with headers. */
	CU_ASSERT_STRING_EQUAL(wsp_client_ip("198.51.100.5", "1.2.3.4", "1.2.3.4", local, buf, sizeof(buf)), "198.51.100.5");
	CU_ASSERT_TRUE(wsp_cidr_match_any("::ffff:127.0.0.1", local));
	CU_ASSERT_FALSE(wsp_cidr_match_any("10.0.0.1", local));
	/* Loopback is not trusted by itself: only what trusted_proxies lists. */
	CU_ASSERT_STRING_EQUAL(wsp_client_ip("127.0.0.1", "203.0.113.9", "1.1.1.1", NULL, buf, sizeof(buf)), "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(wsp_client_ip("", "203.0.113.9", NULL, NULL, buf, sizeof(buf)), "local");
}

/* metrics_allow: addresses and CIDR networks; empty means loopback. */
static void test_addr_allowed(void)
{
	char *list[] = { "10.0.0.0/8", "192.0.2.7", "fd00::/8", "2001:db8::1/128", "bogus/3", "10.1.2.3/40", NULL };

	CU_ASSERT_TRUE(wsp_cidr_match_any("127.0.0.1", wsp_cidr_loopback));
	CU_ASSERT_TRUE(wsp_cidr_match_any("127.8.9.10", wsp_cidr_loopback));
	CU_ASSERT_TRUE(wsp_cidr_match_any("::1", wsp_cidr_loopback));
	CU_ASSERT_TRUE(wsp_cidr_match_any("::ffff:127.0.0.1", wsp_cidr_loopback));
	CU_ASSERT_FALSE(wsp_cidr_match_any("203.0.113.5", wsp_cidr_loopback));
	CU_ASSERT_FALSE(wsp_cidr_match_any("", wsp_cidr_loopback));
	CU_ASSERT_FALSE(wsp_cidr_match_any("not an address", wsp_cidr_loopback));
	CU_ASSERT_TRUE(wsp_cidr_match_any("10.200.3.4", list));
	CU_ASSERT_TRUE(wsp_cidr_match_any("::ffff:10.0.0.9", list));
	CU_ASSERT_TRUE(wsp_cidr_match_any("192.0.2.7", list));
	CU_ASSERT_FALSE(wsp_cidr_match_any("192.0.2.8", list));
	CU_ASSERT_TRUE(wsp_cidr_match_any("fd12:3456::1", list));
	CU_ASSERT_FALSE(wsp_cidr_match_any("fe80::1", list));
	CU_ASSERT_TRUE(wsp_cidr_match_any("2001:db8::1", list));
	CU_ASSERT_FALSE(wsp_cidr_match_any("2001:db8::2", list));
	/* A list replaces the loopback default. */
	CU_ASSERT_FALSE(wsp_cidr_match_any("127.0.0.1", list));
	/* Prefix lengths that are not whole bytes. */
	{
		char *odd[] = { "172.16.0.0/12", NULL };

		CU_ASSERT_TRUE(wsp_cidr_match_any("172.31.255.255", odd));
		CU_ASSERT_FALSE(wsp_cidr_match_any("172.32.0.0", odd));
	}
}

static void test_trusted_proxies(void)
{
	char *list[] = { "127.0.0.2", "2001:db8::1", "unix", NULL };
	char *v4only[] = { "10.1.2.3", NULL };

	CU_ASSERT_TRUE(wsp_cidr_valid("127.0.0.1"));
	CU_ASSERT_TRUE(wsp_cidr_valid("::1"));
	CU_ASSERT_TRUE(wsp_cidr_valid("unix"));
	CU_ASSERT_FALSE(wsp_cidr_valid("localhost"));
	CU_ASSERT_TRUE(wsp_cidr_valid("10.0.0.0/8"));
	CU_ASSERT_FALSE(wsp_cidr_valid("10.0.0.0/33"));
	CU_ASSERT_FALSE(wsp_cidr_valid(""));
	CU_ASSERT_TRUE(wsp_cidr_match_any("127.0.0.2", list));
	CU_ASSERT_TRUE(wsp_cidr_match_any("::ffff:127.0.0.2", list));
	CU_ASSERT_TRUE(wsp_cidr_match_any("2001:db8:0::1", list));
	CU_ASSERT_TRUE(wsp_cidr_match_any("", list));            /* unix socket */
	CU_ASSERT_FALSE(wsp_cidr_match_any("127.0.0.1", list));
	CU_ASSERT_FALSE(wsp_cidr_match_any("", v4only));
	CU_ASSERT_FALSE(wsp_cidr_match_any("10.1.2.4", v4only));
	CU_ASSERT_TRUE(wsp_cidr_match_any("::ffff:10.1.2.3", v4only));
	CU_ASSERT_FALSE(wsp_cidr_match_any("127.0.0.2", NULL));    /* default: none */
	{
		char *net[] = { "10.0.0.0/8", NULL };

		CU_ASSERT_TRUE(wsp_cidr_match_any("10.9.8.7", net));
		CU_ASSERT_FALSE(wsp_cidr_match_any("11.0.0.1", net));
	}
	CU_ASSERT_TRUE(wsp_conntoken_name_ok("Zoë Müller", 64));
	CU_ASSERT_FALSE(wsp_conntoken_name_ok("", 64));
	CU_ASSERT_FALSE(wsp_conntoken_name_ok("a,b", 64));
	CU_ASSERT_FALSE(wsp_conntoken_name_ok("a\tb", 64));
}

int test_access_register(void)
{
	CU_pSuite s = CU_add_suite("access", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_origin_host_rule);
	WSP_ADD_TEST(s, test_origin_list);
	WSP_ADD_TEST(s, test_client_ip);
	WSP_ADD_TEST(s, test_addr_allowed);
	WSP_ADD_TEST(s, test_trusted_proxies);
	return 0;
}
