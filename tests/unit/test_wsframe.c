/* test_wsframe.c - the frames the daemon writes and their batching. */
#include "config.h"

#include <string.h>

#include "daemon/wsframe.h"
#include "suites.h"

static void test_heads(void)
{
	unsigned char h[WSP_FRAME_HEAD_MAX];

	CU_ASSERT_EQUAL(wsp_frame_text_head(h, 0), 2);
	CU_ASSERT_EQUAL(h[0], 0x81);
	CU_ASSERT_EQUAL(h[1], 0);
	CU_ASSERT_EQUAL(wsp_frame_text_head(h, 125), 2);
	CU_ASSERT_EQUAL(h[1], 125);
	CU_ASSERT_EQUAL(wsp_frame_text_head(h, 126), 4);
	CU_ASSERT_EQUAL(h[1], 126);
	CU_ASSERT_EQUAL(h[2], 0);
	CU_ASSERT_EQUAL(h[3], 126);
	CU_ASSERT_EQUAL(wsp_frame_text_head(h, 65535), 4);
	CU_ASSERT_EQUAL(h[2], 0xff);
	CU_ASSERT_EQUAL(h[3], 0xff);
	CU_ASSERT_EQUAL(wsp_frame_text_head(h, 65536), 10);
	CU_ASSERT_EQUAL(h[1], 127);
	CU_ASSERT_EQUAL(h[7], 1);                 /* 0x0000000000010000 */
	CU_ASSERT_EQUAL(h[8], 0);
	CU_ASSERT_EQUAL(h[9], 0);
}

static void test_batch(void)
{
	unsigned char buf[64];
	wsp_framebuf b;

	wsp_framebuf_init(&b, buf, sizeof(buf));
	CU_ASSERT_TRUE(wsp_framebuf_add(&b, "hello", 5, 1000));
	CU_ASSERT_TRUE(wsp_framebuf_add(&b, "{}", 2, 1000));
	CU_ASSERT_EQUAL(b.len, 2 + 5 + 2 + 2);
	CU_ASSERT_EQUAL(memcmp(buf, "\x81\x05hello\x81\x02{}", 11), 0);
	/* A frame counts a full-size header against the limit: 11 + 10 + 5 = 26. */
	CU_ASSERT_FALSE(wsp_framebuf_add(&b, "hello", 5, 25));
	CU_ASSERT_EQUAL(b.len, 11);               /* unchanged */
	CU_ASSERT_TRUE(wsp_framebuf_add(&b, "hello", 5, 26));
	/* Never past the buffer, whatever the limit. */
	CU_ASSERT_FALSE(wsp_framebuf_add(&b, buf, 40, 100000));
	CU_ASSERT_FALSE(wsp_framebuf_add(&b, buf, (size_t)-1, (size_t)-1));
}

int test_wsframe_register(void)
{
	CU_pSuite s = CU_add_suite("wsframe", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_heads);
	WSP_ADD_TEST(s, test_batch);
	return 0;
}
