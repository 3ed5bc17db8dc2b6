/* nacctd-link.c - libnl-3 cache manager in sd-event. NLE_* codes become -errno here. When the
 * kernel drops notifications (the socket buffer overflowed during a burst of link changes), a
 * fresh listing repairs our view. */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "log.h"

#include "nacctd-link.h"

#define NETLINK_RCVBUF (4 * 1024 * 1024)

struct NacctLinkMonitor {
        NacctLinkCallback cb;
        void *userdata;
        struct nl_sock *sock;
        struct nl_cache_mngr *mngr;
        struct nl_cache *cache;
        sd_event_source *io;
};

int nacct_nl_errno(int nle)
{
        switch (abs(nle)) {
        case 0:
                return 0;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_PERM:
                return -EPERM;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_INTR:
                return -EINTR;
        case NLE_INVAL:
                return -EINVAL;
        case NLE_BAD_SOCK:
                return -EBADF;
        case NLE_OBJ_NOTFOUND:
        case NLE_NODEV:
                return -ENODEV;
        case NLE_PROTO_MISMATCH:
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        default:
                return -EIO;
        }
}

static void report(NacctLinkMonitor *m, NacctLinkEvent event, struct rtnl_link *l)
{
        NacctLink link = {};
        struct nl_addr *a;

        link.ifindex = rtnl_link_get_ifindex(l);
        link.name = rtnl_link_get_name(l);
        link.flags = rtnl_link_get_flags(l);
        if (!link.name || link.ifindex <= 0)
                return;
        a = rtnl_link_get_addr(l);
        if (a && nl_addr_get_len(a) == 6 && rtnl_link_get_arptype(l) == ARPHRD_ETHER) {
                memcpy(link.mac, nl_addr_get_binary_addr(a), 6);
                link.mac_len = 6;
        }
        m->cb(m->userdata, event, &link);
}

static void on_change(struct nl_cache *cache, struct nl_object *obj, int action, void *data)
{
        NacctLinkMonitor *m = data;

        if (strcmp(nl_object_get_type(obj), "route/link") != 0)
                return;
        report(m, action == NL_ACT_DEL ? NACCT_LINK_GONE : NACCT_LINK_PRESENT,
               (struct rtnl_link *)obj);
}

static void each_link(struct nl_object *obj, void *data)
{
        report(data, NACCT_LINK_PRESENT, (struct rtnl_link *)obj);
}

int nacct_link_monitor_resync(NacctLinkMonitor *m)
{
        struct nl_sock *sk;
        struct nl_cache *cache = NULL;
        int r;

        sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r >= 0)
                r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
        if (r < 0) {
                nl_socket_free(sk);
                return nacct_nl_errno(r);
        }
        m->cb(m->userdata, NACCT_LINK_SYNC_BEGIN, NULL);
        nl_cache_foreach(cache, each_link, m);
        m->cb(m->userdata, NACCT_LINK_SYNC_END, NULL);
        nl_cache_free(cache);
        nl_socket_free(sk);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        NacctLinkMonitor *m = userdata;
        int r;

        r = nl_cache_mngr_data_ready(m->mngr);
        if (r < 0) {
                r = nacct_nl_errno(r);
                log_warning_errno(r, "Lost interface notifications (%m), listing the interfaces "
                                     "again.");
                r = nacct_link_monitor_resync(m);
                if (r < 0)
                        log_error_errno(r, "Failed to list the interfaces: %m");
        }
        return 0;
}

int nacct_link_monitor_new(sd_event *e, NacctLinkCallback cb, void *userdata,
                           NacctLinkMonitor **ret)
{
        _cleanup_(nacct_link_monitor_freep) NacctLinkMonitor *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->cb = cb;
        m->userdata = userdata;
        m->sock = nl_socket_alloc();
        if (!m->sock)
                return -ENOMEM;
        r = nl_cache_mngr_alloc(m->sock, NETLINK_ROUTE, 0, &m->mngr);
        if (r < 0)
                return nacct_nl_errno(r);
        (void)nl_socket_set_buffer_size(m->sock, NETLINK_RCVBUF, 0);
        r = nl_cache_mngr_add(m->mngr, "route/link", on_change, m, &m->cache);
        if (r < 0)
                return nacct_nl_errno(r);
        r = sd_event_add_io(e, &m->io, nl_cache_mngr_get_fd(m->mngr), EPOLLIN, on_io, m);
        if (r < 0)
                return r;
        m->cb(m->userdata, NACCT_LINK_SYNC_BEGIN, NULL);
        nl_cache_foreach(m->cache, each_link, m);
        m->cb(m->userdata, NACCT_LINK_SYNC_END, NULL);
        *ret = TAKE_PTR(m);
        return 0;
}

NacctLinkMonitor *nacct_link_monitor_free(NacctLinkMonitor *m)
{
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->io);
        if (m->mngr)
                nl_cache_mngr_free(m->mngr);
        if (m->sock)
                nl_socket_free(m->sock);
        free(m);
        return NULL;
}
