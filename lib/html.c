/* html.c - escaping writers for pages written by C (see html.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "utf8.h"

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

void html_done(Html *h)
{
        free(h->buf);
        *h = HTML_INIT;
}

char *html_steal(Html *h, size_t *ret_len)
{
        char *s;

        if (!h->buf) {
                s = strdup("");
                if (ret_len)
                        *ret_len = 0;
                return s;
        }
        s = h->buf;
        if (ret_len)
                *ret_len = h->len;
        *h = HTML_INIT;
        return s;
}

const char *html_str(const Html *h)
{
        return h->buf ? h->buf : "";
}

int html_error(const Html *h)
{
        return h->failed ? -ENOMEM : 0;
}

static bool grow(Html *h, size_t add)
{
        size_t want, size;
        char *p;

        if (h->failed)
                return false;
        if (add > HTML_MAX_SIZE || h->len + add + 1 > HTML_MAX_SIZE) {
                h->failed = true;
                return false;
        }
        want = h->len + add + 1;
        if (want <= h->size)
                return true;
        size = h->size ? h->size : 256;
        while (size < want)
                size *= 2;
        if (size > HTML_MAX_SIZE)
                size = HTML_MAX_SIZE;
        p = realloc(h->buf, size);
        if (!p) {
                h->failed = true;
                return false;
        }
        h->buf = p;
        h->size = size;
        return true;
}

void html_rawn(Html *h, const char *s, size_t n)
{
        if (!s || n == 0 || !grow(h, n))
                return;
        memcpy(h->buf + h->len, s, n);
        h->len += n;
        h->buf[h->len] = 0;
}

void html_raw(Html *h, const char *s)
{
        if (s)
                html_rawn(h, s, strlen(s));
}

/* Length of the well-formed UTF-8 sequence at s[0..n) that HTML accepts as text (no C1
 * controls, no noncharacters), or 0. */
static size_t text_sequence(const char *s, size_t n)
{
        uint32_t c;
        size_t len = utf8_sequence_n(s, n, &c);

        if (len == 0 || (c >= 0x80 && c <= 0x9f))
                return 0;
        if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
                return 0;
        return len;
}

static void escape_text(Html *h, const char *str, size_t n, bool attribute)
{
        const unsigned char *s = (const unsigned char *)str;
        size_t start = 0, i = 0;

        if (!str)
                return;
        while (i < n) {
                const char *rep = NULL;
                unsigned char c = s[i];
                size_t len = 1;

                switch (c) {
                case '&':
                        rep = "&amp;";
                        break;
                case '<':
                        rep = "&lt;";
                        break;
                case '>':
                        rep = "&gt;";
                        break;
                case '"':
                        rep = "&quot;";
                        break;
                case '\'':
                        rep = "&#39;";
                        break;
                case '\n':
                        rep = attribute ? "&#10;" : NULL;
                        break;
                case '\r':
                        rep = attribute ? "&#13;" : NULL;
                        break;
                case '\t':
                        break;
                default:
                        if (c < 0x20 || c == 0x7f)
                                rep = replacement;
                        else if (c >= 0x80) {
                                len = text_sequence(str + i, n - i);
                                if (len == 0) {
                                        rep = replacement;
                                        len = 1;
                                }
                        }
                }
                if (rep) {
                        html_rawn(h, str + start, i - start);
                        html_raw(h, rep);
                        start = i + len;
                }
                i += len;
        }
        html_rawn(h, str + start, n - start);
}

void html_txtn(Html *h, const char *s, size_t n)
{
        escape_text(h, s, n, false);
}

void html_txt(Html *h, const char *s)
{
        if (s)
                escape_text(h, s, strlen(s), false);
}

void html_attr(Html *h, const char *s)
{
        if (s)
                escape_text(h, s, strlen(s), true);
}

static void url_encode(Html *h, const char *s, bool keep_slash)
{
        static const char hex[] = "0123456789ABCDEF";

        if (!s)
                return;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                char esc[3];

                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
                    (keep_slash && *p == '/')) {
                        html_rawn(h, (const char *)p, 1);
                        continue;
                }
                esc[0] = '%';
                esc[1] = hex[*p >> 4];
                esc[2] = hex[*p & 15];
                html_rawn(h, esc, 3);
        }
}

void html_url_arg(Html *h, const char *s)
{
        url_encode(h, s, false);
}

void html_url_path(Html *h, const char *s)
{
        url_encode(h, s, true);
}

void html_attribute(Html *h, const char *name, const char *value)
{
        html_raw(h, " ");
        html_raw(h, name);
        html_raw(h, "=\"");
        html_attr(h, value);
        html_raw(h, "\"");
}

/* One conversion of a printf format, copied into spec (NUL-terminated) for snprintf. */
static void number(Html *h, const char *spec, size_t spec_len, int length, char conv,
                   const int star[2], int n_star, va_list *ap)
{
        char fmt[32], out[128];
        int n;

        if (spec_len >= sizeof(fmt))
                return;
        memcpy(fmt, spec, spec_len);
        fmt[spec_len] = 0;
        /* fmt has '*' where width or precision came from arguments: pass them on */
#define EMIT(type)                                                                                 \
        do {                                                                                       \
                type v = va_arg(*ap, type);                                                        \
                if (n_star == 2)                                                                   \
                        n = snprintf(out, sizeof(out), fmt, star[0], star[1], v);                  \
                else if (n_star == 1)                                                              \
                        n = snprintf(out, sizeof(out), fmt, star[0], v);                           \
                else                                                                               \
                        n = snprintf(out, sizeof(out), fmt, v);                                    \
        } while (0)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        bool is_unsigned = conv != 'd' && conv != 'i';
        switch (length) {
        case 'H': /* hh and h are promoted to int */
        case 'h':
        case 0:
                if (is_unsigned)
                        EMIT(unsigned);
                else
                        EMIT(int);
                break;
        case 'l':
                if (is_unsigned)
                        EMIT(unsigned long);
                else
                        EMIT(long);
                break;
        case 'L':
                if (is_unsigned)
                        EMIT(unsigned long long);
                else
                        EMIT(long long);
                break;
        case 'z':
        case 't':
                EMIT(size_t);
                break;
        case 'j':
                if (is_unsigned)
                        EMIT(uintmax_t);
                else
                        EMIT(intmax_t);
                break;
        default:
                return;
        }
#pragma GCC diagnostic pop
#undef EMIT
        if (n > 0)
                html_rawn(h, out, MIN((size_t)n, sizeof(out) - 1));
}

void html_vprintf(Html *h, const char *fmt, va_list ap_in)
{
        va_list ap;
        const char *p = fmt, *lit = fmt;

        va_copy(ap, ap_in);
        while (*p) {
                const char *spec;
                int star[2], n_star = 0, precision = -1, length = 0;

                if (*p != '%') {
                        p++;
                        continue;
                }
                html_rawn(h, lit, p - lit);
                spec = p++;
                if (*p == '%') {
                        html_raw(h, "%");
                        lit = ++p;
                        continue;
                }
                while (*p && strchr("-+ #0", *p))
                        p++;
                if (*p == '*') {
                        star[n_star++] = va_arg(ap, int);
                        p++;
                } else
                        while (*p >= '0' && *p <= '9')
                                p++;
                if (*p == '.') {
                        p++;
                        if (*p == '*') {
                                precision = star[n_star++] = va_arg(ap, int);
                                p++;
                        } else {
                                precision = 0;
                                while (*p >= '0' && *p <= '9' && precision < 100000)
                                        precision = precision * 10 + (*p++ - '0');
                                while (*p >= '0' && *p <= '9')
                                        p++;
                        }
                }
                if (*p == 'h') {
                        length = 'h';
                        if (*++p == 'h') {
                                length = 'H';
                                p++;
                        }
                } else if (*p == 'l') {
                        length = 'l';
                        if (*++p == 'l') {
                                length = 'L';
                                p++;
                        }
                } else if (*p == 'z' || *p == 'j' || *p == 't')
                        length = *p++;
                switch (*p) {
                case 's': {
                        const char *s = va_arg(ap, const char *);
                        if (precision >= 0)
                                html_txtn(h, s, s ? strnlen(s, (size_t)precision) : 0);
                        else
                                html_txt(h, s);
                        break;
                }
                case 'c': {
                        char c = (char)va_arg(ap, int);
                        html_txtn(h, &c, 1);
                        break;
                }
                case 'd':
                case 'i':
                case 'u':
                case 'x':
                case 'X':
                case 'o':
                        number(h, spec, p + 1 - spec, length, *p, star, n_star, &ap);
                        break;
                default:
                        /* unsupported conversion: a programming error, written as nothing */
                        if (!*p) {
                                lit = p;
                                goto done;
                        }
                }
                lit = ++p;
        }
done:
        html_rawn(h, lit, p - lit);
        va_end(ap);
}

void html_printf(Html *h, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        html_vprintf(h, fmt, ap);
        va_end(ap);
}
