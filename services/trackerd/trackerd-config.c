/* trackerd-config.c - defaults and parsing of trackerd.conf(5). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

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

static const ConfItem items[] = {
        {"Collector", "LogUses", conf_parse_bool, offsetof(TrackerdConfig, log_uses)},
        {"Collector", "Retention", conf_parse_timespan_sec, offsetof(TrackerdConfig, retention_sec)},
        {"Collector", "IdleExitSec", conf_parse_timespan_sec, offsetof(TrackerdConfig, idle_exit_sec)},
        {"Collector", "BatchMax", parse_batch_max, offsetof(TrackerdConfig, batch_max)},
        {"Collector", "ReceiveBuffer", parse_receive_buffer,
         offsetof(TrackerdConfig, receive_buffer)},
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

int trackerd_config_load(const char *path, TrackerdConfig *c, ConfError *err)
{
        TrackerdConfig n = *c;
        int r;

        r = conf_parse_file(path, items, ELEMENTSOF(items), &n, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        *c = n;
        return 0;
}
