/* delivery.c - see delivery.h. */
#include "config.h"

#include <string.h>

#include "daemon/client.h"
#include "daemon/delivery.h"
#include "daemon/history.h"

void wsp__deliver(wsp_namespace *ns, wsp_msg *m, const char *to, long long id)
{
	/* A row for a clientId is never in a catch-up page; one for a user is. */
	bool addressed = to && strncmp(to, WSP_TO_USER, sizeof(WSP_TO_USER) - 1) != 0;
	wsp_client *c, *next;

	for (c = ns->clients; c; c = next) {
		next = c->next;
		/* A client a burst left behind reads outbox rows from the
		 * namespace's backlog, in this same order (history.h). */
		if (id >= 0 && c->cu && wsp__history_lagging(c))
			continue;
		if (to && !wsp__client_is(c, to))
			continue;
		if (id >= 0 && wsp__history_live(c, m, id, addressed))
			continue;
		/* More outbox rows at once than c's queue holds, while c
		 * reads: the rest of the burst comes in catch-up pages. */
		if (id >= 0 && wsp__client_burst(c, m) && wsp__history_overflow(c, id))
			continue;
		wsp__client_push(c, m);
	}
	if (id >= 0 && ns->backlog.readers)
		wsp__history_keep(ns, m, to, id);
}
