/* html.h - cgit-style escaping writers into a growing buffer: no byte of data reaches a page
 * unescaped unless it went through html_raw(), which is for markup written in our sources. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Past this size a buffer stops growing and remembers that it failed (a page or a diff is
 * never that large; the limit keeps a hostile input from eating the daemon's memory). */
#define HTML_MAX_SIZE ((size_t)64 << 20)

typedef struct Html {
        char *buf; /* NUL-terminated while len > 0 or after html_str() */
        size_t len;
        size_t size;
        bool failed; /* out of memory or past HTML_MAX_SIZE: the content is incomplete */
} Html;

#define HTML_INIT ((Html){})

void html_done(Html *h); /* frees the buffer; h may be reused after it */
/* Hand the text over (NUL-terminated, never NULL unless out of memory); h is empty after. */
char *html_steal(Html *h, size_t *ret_len);
/* The text so far ("" when empty); valid until the next write. */
const char *html_str(const Html *h);
/* -ENOMEM if a write failed since the buffer was set up, else 0. */
int html_error(const Html *h);

/* Markup from our own sources, written as is. */
void html_raw(Html *h, const char *s);
void html_rawn(Html *h, const char *s, size_t n);

/* Text content: & < > " ' escaped, invalid UTF-8 and control characters other than tab, line
 * feed and carriage return written as U+FFFD. NULL writes nothing. */
void html_txt(Html *h, const char *s);
void html_txtn(Html *h, const char *s, size_t n);
/* A value inside a double-quoted attribute: as html_txt, and line breaks as character
 * references so that no attribute value can end early or span lines. */
void html_attr(Html *h, const char *s);
/* A URL query component (or a path segment): everything but A-Z a-z 0-9 - . _ ~ is
 * percent-encoded, so the result is also safe inside an attribute. */
void html_url_arg(Html *h, const char *s);
/* A path made of segments: as html_url_arg, but '/' stays. */
void html_url_path(Html *h, const char *s);

/* printf into the page where every %s (and %c) is escaped as text: formats are markup from our
 * sources, arguments are data. Numbers (d i u x X o with h hh l ll z j t) are written as
 * printf writes them; %% is a percent sign. There is no way to put an argument in raw. */
void html_printf(Html *h, const char *fmt, ...) _printf_(2, 3);
void html_vprintf(Html *h, const char *fmt, va_list ap) _printf_(2, 0);

/* An attribute written whole: ` name="value"` with the value escaped. */
void html_attribute(Html *h, const char *name, const char *value);

static inline void html_donep(Html *h)
{
        html_done(h);
}
#define _cleanup_html_ _cleanup_(html_donep)
