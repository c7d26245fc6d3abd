/* outbox.c - see outbox.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"

int wsp_outbox_row_decode(const char *const col[WSP_OUTBOX_NCOLS], wsp_outbox_row *row)
{
	char *end;
	long long id;

	errno = 0;
	id = strtoll(col[0], &end, 10);
	if (errno || end == col[0] || *end || id <= 0)
		return -1;
	if ((col[5][0] != 't' && col[5][0] != 'f') || col[5][1])
		return -1;
	row->id = id;
	row->ns = col[1];
	row->payload = col[2];
	row->username = col[3];
	row->client_id = col[4];
	row->all = col[5][0] == 't';
	row->origin = col[6];
	return 0;
}

int wsp_outbox_notify_decode(char *text, wsp_outbox_row *row)
{
	size_t idlen = strspn(text, "0123456789");
	char *f[7], *p = text;

	if (idlen == 0 || idlen > 19)
		return -1;
	if (text[idlen] == '\0') {
		row->id = atoll(text);
		return row->id > 0 ? 0 : -1;
	}
	if (text[idlen] != '\n')
		return -1;
	for (int i = 0; i < 6; i++) {
		f[i] = p;
		p = strchr(p, '\n');
		if (!p)
			return -1;
		*p++ = '\0';
	}
	f[6] = p;
	if ((f[1][0] != 't' && f[1][0] != 'f') || f[1][1] || atoll(f[0]) <= 0)
		return -1;
	row->id = atoll(f[0]);
	row->all = f[1][0] == 't';
	row->client_id = f[2];
	row->origin = f[3];
	row->username = f[4];
	row->ns = f[5];
	row->payload = f[6];
	return 1;
}
