/* admin_page.h - the server-rendered WebSocket stats page and the small
 * HTML error pages.  Pure: JSON in, escaped HTML out.
 *
 * The page follows the admin DOM contract (TEAM.md) so that
 * /admin/websocket-stats.js can keep it live over /api/1/ws/jpulse-ws-status:
 * cards #wsp-uptime #wsp-total-messages #wsp-namespace-count
 * #wsp-client-count, the <tbody id="wsp-namespaces"> with one
 * <tr data-path> per namespace whose first cell holds a
 * <span class="wsp-dot wsp-green|wsp-yellow|wsp-red">, the <ul id="wsp-activity">
 * newest first, #wsp-updated and the #wsp-conn pill.  Every value is escaped.
 */
#ifndef WSP_ADMIN_PAGE_H
#define WSP_ADMIN_PAGE_H

#include <jansson.h>

#include "buf.h"

/* Render the page for `stats` (borrowed; the merged getStats() JSON) seen by
 * `username`.  0 or WSP_ERR_NOMEM. */
int wsp_admin_page_render(wsp_buf *out, json_t *stats, const char *username, const char *page_path);

/* A minimal page: <h1>title</h1><p>message</p> and an optional link. */
int wsp_html_error_page(wsp_buf *out, const char *title, const char *message, const char *link_href,
			const char *link_text);

/* "3d 04h 05m", "2h 03m 04s", "5m 06s", "7s". */
void wsp_format_duration(long long seconds, char *out, size_t outsz);

#endif
