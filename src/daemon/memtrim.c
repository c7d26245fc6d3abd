/* memtrim.c - see memtrim.h. */
#include "config.h"

#include <malloc.h>

#include "daemon/memtrim.h"

static void trim(wsp_server *srv, void *arg)
{
	(void)srv;
	(void)arg;
	malloc_trim(0);
}

int wsp__memtrim_start(wsp_server *srv)
{
	return wsp_server_every(srv, WSP_MEMTRIM_EVERY_MS, trim, NULL);
}
