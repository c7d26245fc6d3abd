/* statsrow.c - see statsrow.h. */
#include "config.h"

#include <stdlib.h>

#include "statsrow.h"

json_t *wsp_statsrow_json(const char *const col[WSP_STATSROW_NCOLS])
{
	json_t *st = json_loads(col[7], 0, NULL);

	/* json_pack's "o?" takes st even when it fails. */
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:b, s:I, s:o?}", "id", col[0], "host", col[1],
			 "pid", (json_int_t)atoll(col[2]), "startedAt", col[3], "updatedAt", col[4],
			 "up", col[5][0] == 't' && st, "age", (json_int_t)atoll(col[6]), "stats", st);
}
