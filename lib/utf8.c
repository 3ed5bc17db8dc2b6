/* utf8.c - a strict UTF-8 validator (RFC 3629). */
#include <stdint.h>

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
