/* json.c - see json.h. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json.h"

/* A growing output buffer; `oom` sticks once an allocation fails. */
typedef struct out {
	char *p;
	size_t len, cap;
	int oom;
} out;

static void put(out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 128;
		char *p;

		while (cap < o->len + n + 1)
			cap *= 2;
		p = wsp_realloc(o->p, cap);
		if (!p) {
			o->oom = 1;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(out *o, const char *s)
{
	put(o, s, strlen(s));
}

int wsp_json_real(double v, char *out_, size_t outsz)
{
	int n = -1;

	if (!isfinite(v) || outsz < 32)
		return -1;
	for (int prec = 1; prec <= 17; prec++) {
		n = snprintf(out_, outsz, "%.*g", prec, v);
		if (strtod(out_, NULL) == v)
			break;
	}
	/* %g switches to an exponent once the exponent reaches the precision
	 * (100 at one digit is "1e+02"); below 1e17 write the digits out. */
	if (strchr(out_, 'e') && fabs(v) >= 1 && fabs(v) < 1e17) {
		char alt[40];
		int e = (int)floor(log10(fabs(v))) + 1, m = snprintf(alt, sizeof(alt), "%.*g", e, v);

		if (m > 0 && (size_t)m < outsz && !strchr(alt, 'e') && strtod(alt, NULL) == v) {
			memcpy(out_, alt, (size_t)m + 1);
			n = m;
		}
	}
	if (n < 0 || (size_t)n + 3 > outsz)
		return -1;
	if (!strpbrk(out_, ".eE")) {
		memcpy(out_ + n, ".0", 3);
		n += 2;
	}
	return n;
}

static void string(out *o, const char *s, size_t n)
{
	size_t run = 0;

	put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8];
		const char *e = NULL;

		switch (ch) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			if (ch < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04X", ch);
				e = esc;
			}
		}
		if (!e)
			continue;
		put(o, s + run, i - run);
		puts_(o, e);
		run = i + 1;
	}
	put(o, s + run, n - run);
	put(o, "\"", 1);
}

static void value(out *o, const json_t *j)
{
	char num[40];

	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		int first = 1;

		put(o, "{", 1);
		json_object_foreach((json_t *)j, k, v) {
			if (!first)
				put(o, ",", 1);
			first = 0;
			string(o, k, strlen(k));
			put(o, ":", 1);
			value(o, v);
		}
		put(o, "}", 1);
		break;
	}
	case JSON_ARRAY:
		put(o, "[", 1);
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i)
				put(o, ",", 1);
			value(o, json_array_get(j, i));
		}
		put(o, "]", 1);
		break;
	case JSON_STRING:
		string(o, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		puts_(o, num);
		break;
	case JSON_REAL:
		/* jansson never holds a non-finite real; null is the safe answer. */
		puts_(o, wsp_json_real(json_real_value(j), num, sizeof(num)) < 0 ? "null" : num);
		break;
	case JSON_TRUE:
		puts_(o, "true");
		break;
	case JSON_FALSE:
		puts_(o, "false");
		break;
	default:
		puts_(o, "null");
		break;
	}
}

char *wsp_json_dump(const json_t *j, size_t *len)
{
	out o = { 0 };

	if (!j)
		return NULL;
	value(&o, j);
	if (o.oom || !o.p) {
		wsp_free(o.p);
		return NULL;
	}
	if (len)
		*len = o.len;
	return o.p;
}
