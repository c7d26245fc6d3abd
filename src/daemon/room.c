/* room.c - see room.h. */
#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "daemon/room.h"

struct cell {
	atomic_int pid;              /* 0: free */
	atomic_int full;
	atomic_int load;             /* connections held, as last told */
};

static struct {
	struct cell *cells;          /* shared across fork(), or NULL */
	size_t n;
	struct cell *mine;           /* this process's, or NULL */
} room;

int wsp_room_open(int workers)
{
	size_t n = workers > 0 ? 2 * (size_t)workers + 2 : 2;
	void *p;

	wsp_room_close();
	p = mmap(NULL, n * sizeof(struct cell), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	room.cells = p;              /* zero-filled: every cell free */
	room.n = n;
	return 0;
}

void wsp_room_close(void)
{
	if (room.cells)
		munmap(room.cells, room.n * sizeof(struct cell));
	room.cells = NULL;
	room.n = 0;
	room.mine = NULL;
}

void wsp_room_join(pid_t self)
{
	room.mine = NULL;
	for (size_t i = 0; i < room.n; i++)
		if (atomic_load(&room.cells[i].pid) == (int)self)
			room.mine = &room.cells[i];
	for (size_t i = 0; !room.mine && i < room.n; i++) {
		int free_pid = 0;

		/* full first, so that no reader sees the cell claimed with a
		 * stale value. */
		if (atomic_load(&room.cells[i].pid) == 0) {
			atomic_store(&room.cells[i].full, 0);
			atomic_store(&room.cells[i].load, 0);
			if (atomic_compare_exchange_strong(&room.cells[i].pid, &free_pid, (int)self))
				room.mine = &room.cells[i];
		}
	}
	if (room.mine)
		atomic_store(&room.mine->full, 0);
}

bool wsp_room_joined(void)
{
	return room.mine != NULL;
}

void wsp_room_full(bool full)
{
	if (room.mine)
		atomic_store(&room.mine->full, full ? 1 : 0);
}

void wsp_room_load(int n)
{
	if (room.mine)
		atomic_store(&room.mine->load, n);
}

bool wsp_room_crowded(void)
{
	int mine, slack;

	if (!room.mine)
		return false;
	mine = atomic_load(&room.mine->load);
	slack = mine / 8 > WSP_ROOM_SLACK ? mine / 8 : WSP_ROOM_SLACK;
	for (size_t i = 0; i < room.n; i++) {
		struct cell *c = &room.cells[i];

		if (c != room.mine && atomic_load(&c->pid) != 0 && !atomic_load(&c->full) &&
		    atomic_load(&c->load) + slack < mine)
			return true;
	}
	return false;
}

bool wsp_room_elsewhere(void)
{
	for (size_t i = 0; i < room.n; i++) {
		struct cell *c = &room.cells[i];

		if (c != room.mine && atomic_load(&c->pid) != 0 && !atomic_load(&c->full))
			return true;
	}
	return false;
}

void wsp_room_leave(pid_t pid)
{
	for (size_t i = 0; pid > 0 && i < room.n; i++) {
		struct cell *c = &room.cells[i];

		if (atomic_load(&c->pid) == (int)pid) {
			atomic_store(&c->full, 1);
			atomic_store(&c->pid, 0);
			if (c == room.mine)
				room.mine = NULL;
		}
	}
}
