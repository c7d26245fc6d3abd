/* conn.c - see conn.h. */
#include "config.h"

#include "alloc.h"
#include "daemon/conn.h"

#define CONN_MAGIC 0x77736363u

wsp_conn *wsp__conn_new(struct lws *wsi)
{
	wsp_conn *cn = wsp_calloc(1, sizeof(*cn));

	if (!cn)
		return NULL;
	cn->magic = CONN_MAGIC;
	cn->wsi = wsi;
	cn->fd = lws_get_socket_fd(wsi);
	lws_set_opaque_user_data(wsi, cn);
	return cn;
}

wsp_conn *wsp__conn_of(struct lws *wsi)
{
	wsp_conn *cn = lws_get_opaque_user_data(wsi);

	/* The accept protocol's and the bus's wsis carry no record (or
	 * another protocol's data): the magic and the back pointer say. */
	return cn && cn->magic == CONN_MAGIC && cn->wsi == wsi ? cn : NULL;
}

void wsp__conn_free(wsp_conn *cn)
{
	if (!cn)
		return;
	if (lws_get_opaque_user_data(cn->wsi) == cn)
		lws_set_opaque_user_data(cn->wsi, NULL);
	cn->magic = 0;
	wsp_free(cn->close_reason);
	wsp_free(cn);
}
