/* test_room.c - which workers have room, shared across fork(). */
#include "config.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/room.h"
#include "suites.h"

/* Without a table nothing is recorded, and nobody else has room. */
static void test_no_table(void)
{
	wsp_room_close();
	wsp_room_join(getpid());
	CU_ASSERT_FALSE(wsp_room_joined());
	wsp_room_full(false);
	CU_ASSERT_FALSE(wsp_room_elsewhere());
	wsp_room_leave(getpid());
}

/* Another worker's cell counts while it is claimed and not full; given
 * back (or full) it does not.  The other worker is a forked child writing
 * to the same mapping, as the supervisor's workers do. */
static void test_siblings(void)
{
	int go[2], done[2];
	pid_t child;
	char c;

	CU_ASSERT_FATAL(wsp_room_open(2) == 0);
	CU_ASSERT_FATAL(pipe(go) == 0 && pipe(done) == 0);
	wsp_room_join(getpid());
	CU_ASSERT_TRUE(wsp_room_joined());
	CU_ASSERT_FALSE(wsp_room_elsewhere());             /* alone */
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		/* The child: join, report; when told, mark itself full; when
		 * told again, leave. */
		wsp_room_join(getpid());
		(void)!write(done[1], "j", 1);
		(void)!read(go[0], &c, 1);
		wsp_room_full(true);
		(void)!write(done[1], "f", 1);
		(void)!read(go[0], &c, 1);
		wsp_room_full(false);
		(void)!write(done[1], "r", 1);
		pause();
		_exit(0);
	}
	CU_ASSERT_EQUAL(read(done[0], &c, 1), 1);
	CU_ASSERT_TRUE(wsp_room_elsewhere());              /* the child has room */
	wsp_room_full(true);                               /* our own fullness does not matter */
	CU_ASSERT_TRUE(wsp_room_elsewhere());
	(void)!write(go[1], "1", 1);
	CU_ASSERT_EQUAL(read(done[0], &c, 1), 1);
	CU_ASSERT_FALSE(wsp_room_elsewhere());             /* the child is full */
	(void)!write(go[1], "2", 1);
	CU_ASSERT_EQUAL(read(done[0], &c, 1), 1);
	CU_ASSERT_TRUE(wsp_room_elsewhere());              /* room again */
	/* The child dies; the supervisor gives its cell back on reaping. */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	wsp_room_leave(child);
	CU_ASSERT_FALSE(wsp_room_elsewhere());
	/* A cell is reused, and a join twice keeps one cell. */
	wsp_room_join(child);
	wsp_room_join(child);
	wsp_room_full(false);
	wsp_room_join(getpid());                           /* back to being ourselves */
	CU_ASSERT_TRUE(wsp_room_elsewhere());
	wsp_room_leave(child);
	CU_ASSERT_FALSE(wsp_room_elsewhere());
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	wsp_room_close();
}

/* More workers than cells: the rest go without one, and nothing breaks. */
static void test_full_table(void)
{
	CU_ASSERT_FATAL(wsp_room_open(1) == 0);            /* 4 cells */
	for (pid_t p = 1000; p < 1010; p++)
		wsp_room_join(p);
	CU_ASSERT_FALSE(wsp_room_joined());                /* the last had no cell */
	wsp_room_full(false);                              /* a no-op */
	wsp_room_join(1000);
	CU_ASSERT_TRUE(wsp_room_elsewhere());              /* 1001..1003 have room */
	for (pid_t p = 1001; p < 1004; p++)
		wsp_room_leave(p);
	CU_ASSERT_FALSE(wsp_room_elsewhere());
	wsp_room_close();
}

/* Crowded: another worker with room holds fewer connections than this one
 * by more than the slack (8, or an eighth of ours); a full or departed one
 * does not count, and without a cell nothing is. */
static void test_crowded(void)
{
	CU_ASSERT_FATAL(wsp_room_open(2) == 0);
	wsp_room_join(2001);
	wsp_room_load(0);
	wsp_room_join(2000);
	wsp_room_load(8);
	CU_ASSERT_FALSE(wsp_room_crowded());               /* 8 against 0: within the slack */
	wsp_room_load(9);
	CU_ASSERT_TRUE(wsp_room_crowded());                /* 9 against 0 */
	wsp_room_load(160);
	wsp_room_join(2001);
	wsp_room_load(140);                                /* slack 20 at 160 */
	CU_ASSERT_FALSE(wsp_room_crowded());               /* 140 against 160: the other way */
	wsp_room_join(2000);
	CU_ASSERT_FALSE(wsp_room_crowded());               /* 160 against 140: within */
	wsp_room_join(2001);
	wsp_room_load(139);
	wsp_room_join(2000);
	CU_ASSERT_TRUE(wsp_room_crowded());                /* 160 against 139 */
	wsp_room_join(2001);
	wsp_room_full(true);
	wsp_room_join(2000);
	CU_ASSERT_FALSE(wsp_room_crowded());               /* the other is full */
	wsp_room_join(2001);
	wsp_room_full(false);
	wsp_room_join(2000);
	CU_ASSERT_TRUE(wsp_room_crowded());
	wsp_room_leave(2001);
	CU_ASSERT_FALSE(wsp_room_crowded());               /* gone */
	wsp_room_join(2001);                               /* a fresh worker counts from 0 */
	wsp_room_join(2000);
	CU_ASSERT_TRUE(wsp_room_crowded());
	wsp_room_close();
	wsp_room_join(2000);
	wsp_room_load(1000);
	CU_ASSERT_FALSE(wsp_room_crowded());               /* no table */
}

int test_room_register(void)
{
	CU_pSuite s = CU_add_suite("room", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_no_table);
	WSP_ADD_TEST(s, test_siblings);
	WSP_ADD_TEST(s, test_full_table);
	WSP_ADD_TEST(s, test_crowded);
	return 0;
}
