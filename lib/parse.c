/* parse.c - strict parsers: no sign, no trailing junk, overflow is an error. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse.h"

int parse_uint64(const char *s, uint64_t *ret)
{
        unsigned long long v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint32(const char *s, uint32_t *ret)
{
        uint64_t v;
        int r;

        r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

int parse_port(const char *s, uint16_t *ret)
{
        uint64_t v;
        int r;

        r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v == 0 || v > 65535)
                return -ERANGE;
        *ret = (uint16_t)v;
        return 0;
}

int parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
        static const char *const no[] = {"0", "no", "n", "false", "f", "off"};

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

struct unit {
        const char *suffix;
        uint64_t factor; /* in the caller's base unit times 1000 */
};

static int parse_span(const char *s, const struct unit *units, size_t n_units,
                      uint64_t default_factor, uint64_t *ret)
{
        uint64_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        for (const char *p = s;;) {
                uint64_t v, factor = default_factor;
                const char *num, *suf;
                size_t len;

                p += strspn(p, " \t");
                if (*p == '\0')
                        break;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                num = p;
                p += strspn(p, "0123456789");
                if (p - num > 18)
                        return -ERANGE;
                v = 0;
                for (const char *d = num; d < p; d++)
                        v = v * 10 + (uint64_t)(*d - '0');
                p += strspn(p, " \t");
                suf = p;
                len = strspn(p, "abcdefghijklmnopqrstuvwxyz");
                p += len;
                if (len > 0) {
                        size_t i;

                        for (i = 0; i < n_units; i++)
                                if (strlen(units[i].suffix) == len &&
                                    strncmp(units[i].suffix, suf, len) == 0)
                                        break;
                        if (i == n_units)
                                return -EINVAL;
                        factor = units[i].factor;
                }
                if (v != 0 && factor > UINT64_MAX / v)
                        return -ERANGE;
                if (total > UINT64_MAX - v * factor)
                        return -ERANGE;
                total += v * factor;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total / 1000;
        return 0;
}

int parse_timespan_sec(const char *s, uint64_t *ret)
{
        static const struct unit units[] = {
                {"s", 1000ULL},           {"sec", 1000ULL},       {"m", 60000ULL},
                {"min", 60000ULL},        {"h", 3600000ULL},      {"hour", 3600000ULL},
                {"d", 86400000ULL},       {"day", 86400000ULL},   {"days", 86400000ULL},
                {"w", 604800000ULL},      {"week", 604800000ULL}, {"weeks", 604800000ULL},
        };
        return parse_span(s, units, ELEMENTSOF(units), 1000ULL, ret);
}

int parse_timespan_msec(const char *s, uint64_t *ret)
{
        static const struct unit units[] = {
                {"ms", 1000ULL},     {"msec", 1000ULL},     {"s", 1000000ULL},
                {"sec", 1000000ULL}, {"min", 60000000ULL},
        };
        return parse_span(s, units, ELEMENTSOF(units), 1000ULL, ret);
}
