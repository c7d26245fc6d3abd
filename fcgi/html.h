/* html.h - escaping text for HTML element content and quoted attributes.
 *
 * Every value the admin page and error pages insert into HTML goes through
 * wsp_html_escape: & < > " ' become entities, so neither text nor a quoted
 * attribute value can open a tag, close an attribute or start a script.
 * NUL cannot occur (C strings); other control characters other than tab,
 * LF and CR become U+FFFD so the page stays well-formed.
 */
#ifndef WSP_HTML_H
#define WSP_HTML_H

#include <stddef.h>

#include "buf.h"

/* Append the escaped form of s (n bytes) to b; 0 or WSP_ERR_NOMEM. */
int wsp_html_escape_n(wsp_buf *b, const char *s, size_t n);
/* Same for a NUL-terminated string; NULL appends nothing. */
int wsp_html_escape(wsp_buf *b, const char *s);

/* Percent-encode s for a URL query value (RFC 3986 unreserved kept, and
 * '/' kept so paths stay readable); 0 or WSP_ERR_NOMEM. */
int wsp_url_encode(wsp_buf *b, const char *s);

#endif
