/* nacctd-link.h - interface discovery with libnl-3: the route/link cache of a cache manager on
 * a NETLINK_ROUTE socket watched by sd-event. Links that exist, appear, change (rename, up,
 * down) and vanish are reported to a callback. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "macro.h"

typedef struct NacctLink {
        int ifindex;
        const char *name;
        unsigned flags; /* IFF_* */
        uint8_t mac[6];
        size_t mac_len; /* 6 for Ethernet-like links, else 0 */
} NacctLink;

typedef enum NacctLinkEvent {
        NACCT_LINK_PRESENT, /* exists (new or changed) with these attributes */
        NACCT_LINK_GONE,
        NACCT_LINK_SYNC_BEGIN, /* a full listing follows: forget what is not listed again */
        NACCT_LINK_SYNC_END,
} NacctLinkEvent;

typedef void (*NacctLinkCallback)(void *userdata, NacctLinkEvent event, const NacctLink *link);

typedef struct NacctLinkMonitor NacctLinkMonitor;

/* Subscribe to link events and report every existing link (between SYNC_BEGIN and SYNC_END)
 * before returning. */
int nacct_link_monitor_new(sd_event *e, NacctLinkCallback cb, void *userdata,
                           NacctLinkMonitor **ret);
/* List every link again (after lost notifications). */
int nacct_link_monitor_resync(NacctLinkMonitor *m);
NacctLinkMonitor *nacct_link_monitor_free(NacctLinkMonitor *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctLinkMonitor *, nacct_link_monitor_free)

/* libnl's NLE_* as -errno. */
int nacct_nl_errno(int nle);
