/* tracker-guard.c - parse and produce the TRACKING environment variable. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "parse.h"
#include "tracker-guard.h"

/* Split "name:depth:time" from the right, so that a program name containing ':' works. */
static int tracking_parse(const char *env, const char **ret_name, size_t *ret_name_len,
                          unsigned *ret_depth, int64_t *ret_time)
{
        const char *c2, *c1;
        char num[32];
        uint64_t depth, t;
        size_t len;

        c2 = strrchr(env, ':');
        if (!c2 || c2 == env)
                return -EINVAL;
        for (c1 = c2 - 1; c1 > env && *c1 != ':'; c1--)
                ;
        if (*c1 != ':' || c1 == env)
                return -EINVAL;

        len = (size_t)(c2 - c1 - 1);
        if (len == 0 || len >= sizeof(num))
                return -EINVAL;
        memcpy(num, c1 + 1, len);
        num[len] = '\0';
        if (parse_uint64(num, &depth) < 0 || depth > 1000)
                return -EINVAL;
        if (parse_uint64(c2 + 1, &t) < 0 || t > INT64_MAX)
                return -EINVAL;

        *ret_name = env;
        *ret_name_len = (size_t)(c1 - env);
        *ret_depth = (unsigned)depth;
        *ret_time = (int64_t)t;
        return 0;
}

int tracking_next_depth(const char *env, const char *program, time_t now, unsigned *ret_depth)
{
        const char *name;
        size_t name_len;
        unsigned depth = 1, prev;
        int64_t t;

        if (env && tracking_parse(env, &name, &name_len, &prev, &t) >= 0 &&
            name_len == strlen(program) && memcmp(name, program, name_len) == 0 &&
            t >= (int64_t)now - 1 && t <= (int64_t)now + 1)
                depth = prev + 1;

        if (depth >= TRACKING_DEPTH_MAX)
                return -ELOOP;
        *ret_depth = depth;
        return 0;
}

int tracking_format(char *buf, size_t size, const char *program, unsigned depth, time_t now)
{
        int n = snprintf(buf, size, "%s:%u:%" PRId64, program, depth, (int64_t)now);
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return 0;
}
