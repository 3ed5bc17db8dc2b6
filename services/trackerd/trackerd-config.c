/* trackerd-config.c - defaults and parsing of trackerd.conf(5). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse.h"
#include "trackerd-config.h"

static int parse_batch_max(const char *value, void *data, const char **ret_msg)
{
        uint64_t v;

        if (parse_uint64(value, &v) < 0 || v < 1 || v > TRACKERD_BATCH_MAX_LIMIT) {
                *ret_msg = "expected a number of datagrams between 1 and 65536";
                return -EINVAL;
        }
        *(uint64_t *)data = v;
        return 0;
}

static int parse_receive_buffer(const char *value, void *data, const char **ret_msg)
{
        uint64_t v;

        if (parse_uint64(value, &v) < 0 || v > 1024ULL * 1024 * 1024) {
                *ret_msg = "expected a number of bytes up to 1073741824 (0 = as passed)";
                return -EINVAL;
        }
        *(uint64_t *)data = v;
        return 0;
}

/* AllowSource=: addresses and prefixes separated by spaces; repeated lines add to the list,
 * an empty value empties it. A line with one bad entry is ignored as a whole. */
static int parse_allow(const char *value, void *data, const char **ret_msg)
{
        TrackerdAllow *a = data;
        size_t n = a->n;
        const char *p = value;

        if (*value == '\0') {
                a->n = 0;
                return 0;
        }
        while (*p) {
                char word[ADDR_STRLEN];
                size_t len = strcspn(p, " \t");

                if (len >= sizeof(word) || n >= TRACKERD_ALLOW_MAX) {
                        *ret_msg = len >= sizeof(word) ? "an entry is too long"
                                                       : "more than 256 addresses and prefixes";
                        return -EINVAL;
                }
                memcpy(word, p, len);
                word[len] = '\0';
                if (addr_prefix_parse(word, &a->prefixes[n]) < 0) {
                        *ret_msg = "expected IPv4 or IPv6 addresses or prefixes such as "
                                   "192.0.2.0/24 or 2001:db8::/32, separated by spaces";
                        return -EINVAL;
                }
                n++;
                p += len;
                p += strspn(p, " \t");
        }
        a->n = n;
        return 0;
}

bool trackerd_allow_contains(const TrackerdAllow *a, const struct sockaddr *sa, socklen_t len)
{
        if (a->n == 0)
                return true;
        for (size_t i = 0; i < a->n; i++)
                if (addr_prefix_contains(&a->prefixes[i], sa, len))
                        return true;
        return false;
}

static const ConfItem items[] = {
        {"Collector", "LogUses", conf_parse_bool, offsetof(TrackerdConfig, log_uses)},
        {"Collector", "Retention", conf_parse_timespan_sec,
         offsetof(TrackerdConfig, retention_sec)},
        {"Collector", "IdleExitSec", conf_parse_timespan_sec,
         offsetof(TrackerdConfig, idle_exit_sec)},
        {"Collector", "BatchMax", parse_batch_max, offsetof(TrackerdConfig, batch_max)},
        {"Collector", "ReceiveBuffer", parse_receive_buffer,
         offsetof(TrackerdConfig, receive_buffer)},
        {"Collector", "AllowSource", parse_allow, offsetof(TrackerdConfig, allow)},
};

void trackerd_config_defaults(TrackerdConfig *c)
{
        *c = (TrackerdConfig){
                .log_uses = true,
                .retention_sec = 400ULL * 86400ULL,
                .idle_exit_sec = 0,
                .batch_max = 4096,
                .receive_buffer = 8ULL * 1024 * 1024,
        };
}

int trackerd_config_load(const char *path, TrackerdConfig *c, ConfWarn warn, void *userdata,
                         ConfError *err)
{
        _cleanup_free_ TrackerdConfig *n = malloc(sizeof(*n));
        int r;

        if (!n)
                return -ENOMEM;
        trackerd_config_defaults(n);
        r = conf_parse_file_lenient(path, items, ELEMENTSOF(items), n, warn, userdata, err);
        if (r == -ENOENT)
                r = 0;
        if (r < 0)
                return r;
        *c = *n;
        return r;
}
