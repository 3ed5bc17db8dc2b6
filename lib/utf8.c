/* utf8.c - a strict UTF-8 validator (RFC 3629). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static size_t utf8_char_len(const unsigned char *p, size_t left, uint32_t *ret_cp)
{
        uint32_t cp;
        size_t n;

        if (p[0] < 0x80) {
                if (ret_cp)
                        *ret_cp = p[0];
                return p[0] == 0 ? 0 : 1;
        }
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2, cp = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3, cp = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4, cp = p[0] & 0x07;
        else
                return 0;
        if (n > left)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        if (ret_cp)
                *ret_cp = cp;
        return n;
}

bool utf8_is_valid_n(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;

        while (len > 0) {
                size_t n = utf8_char_len(p, len, NULL);
                if (n == 0)
                        return false;
                p += n;
                len -= n;
        }
        return true;
}

bool utf8_is_printable_n(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c == 0x7f)
                        return false;
                /* C1 controls U+0080..U+009F (0xc2 0x80..0x9f): U+009B is CSI on some
                 * terminals, as dangerous as ESC [. */
                if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9f)
                        return false;
        }
        return utf8_is_valid_n(s, len);
}

size_t utf8_sequence_n(const char *s, size_t left, uint32_t *ret_cp)
{
        return left == 0 ? 0 : utf8_char_len((const unsigned char *)s, left, ret_cp);
}

/* Code points that show nothing, or change how the text around them is shown, or end a line
 * for some readers: the Unicode format characters (Cf) in use, line and paragraph
 * separators, spaces other than U+0020, fillers that render blank, variation selectors,
 * tags and noncharacters. */
static bool is_invisible(uint32_t cp)
{
        static const struct {
                uint32_t first, last;
        } ranges[] = {
                {0x00a0, 0x00a0},   /* no-break space */
                {0x00ad, 0x00ad},   /* soft hyphen */
                {0x034f, 0x034f},   /* combining grapheme joiner */
                {0x061c, 0x061c},   /* Arabic letter mark */
                {0x115f, 0x1160},   /* Hangul fillers */
                {0x1680, 0x1680},   /* Ogham space mark */
                {0x17b4, 0x17b5},   /* Khmer inherent vowels */
                {0x180b, 0x180f},   /* Mongolian variation selectors, vowel separator */
                {0x2000, 0x200f},   /* spaces, zero width space/joiners, LRM, RLM */
                {0x2028, 0x202f},   /* line/paragraph separators, bidi embeddings and
                                     * overrides, narrow no-break space */
                {0x205f, 0x206f},   /* medium space, word joiner, invisible operators,
                                     * bidi isolates, deprecated format characters */
                {0x3000, 0x3000},   /* ideographic space */
                {0x3164, 0x3164},   /* Hangul filler */
                {0xfdd0, 0xfdef},   /* noncharacters */
                {0xfe00, 0xfe0f},   /* variation selectors */
                {0xfeff, 0xfeff},   /* zero width no-break space (BOM) */
                {0xffa0, 0xffa0},   /* halfwidth Hangul filler */
                {0xfff0, 0xfffb},   /* unassigned specials, interlinear annotation */
                {0x1bca0, 0x1bca3}, /* shorthand format controls */
                {0x1d173, 0x1d17a}, /* musical symbol format characters */
                {0xe0000, 0xe0fff}, /* tags, variation selectors supplement */
        };

        if ((cp & 0xfffe) == 0xfffe) /* U+FFFE, U+FFFF and their copies in every plane */
                return true;
        for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
                if (cp >= ranges[i].first && cp <= ranges[i].last)
                        return true;
        return false;
}

bool utf8_is_visible_n(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;

        if (!utf8_is_printable_n(s, len))
                return false;
        while (len > 0) {
                uint32_t cp;
                size_t n = utf8_char_len(p, len, &cp);

                if (n == 0 || is_invisible(cp))
                        return false;
                p += n;
                len -= n;
        }
        return true;
}

bool utf8_codepoint_is_invisible(uint32_t cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || is_invisible(cp);
}

size_t utf8_escape_invisible_buf(const char *s, size_t len, char *buf)
{
        char *q = buf;

        if (utf8_is_visible_n(s, len)) {
                memcpy(buf, s, len);
                buf[len] = '\0';
                return len;
        }
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n = utf8_sequence_n(s + i, len - i, &cp);

                if (n == 0 || utf8_codepoint_is_invisible(cp) || s[i] == '\\') {
                        /* The whole sequence, or the one byte that is not one. */
                        for (size_t k = 0; k < (n ?: 1); k++)
                                q += sprintf(q, "\\x%02x", (unsigned char)s[i + k]);
                        i += n ?: 1;
                } else {
                        memcpy(q, s + i, n);
                        q += n;
                        i += n;
                }
        }
        *q = '\0';
        return (size_t)(q - buf);
}

int utf8_escape_invisible(const char *s, char **ret)
{
        size_t len = strlen(s);
        char *copy;

        if (utf8_is_visible_n(s, len)) {
                *ret = NULL;
                return 0;
        }
        copy = malloc(len * 4 + 1);
        if (!copy)
                return -ENOMEM;
        utf8_escape_invisible_buf(s, len, copy);
        *ret = copy;
        return 1;
}
