/* html.c - see html.h. */
#include "config.h"

#include <string.h>

#include "error.h"
#include "html.h"

int wsp_html_escape_n(wsp_buf *b, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rep;
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
				rep = "\xEF\xBF\xBD";
			else
				continue;
		}
		wsp_buf_add(b, s + start, i - start);
		wsp_buf_puts(b, rep);
		start = i + 1;
	}
	wsp_buf_add(b, s + start, n - start);
	return b->oom ? WSP_ERR_NOMEM : 0;
}

int wsp_html_escape(wsp_buf *b, const char *s)
{
	return s ? wsp_html_escape_n(b, s, strlen(s)) : 0;
}

int wsp_url_encode(wsp_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
			wsp_buf_add(b, (const char *)&c, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			wsp_buf_add(b, e, 3);
		}
	}
	return b->oom ? WSP_ERR_NOMEM : 0;
}
