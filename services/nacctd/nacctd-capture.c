/* nacctd-capture.c - libpcap handles: created, tuned and activated here; pcap's errbuf and
 * PCAP_ERROR_* codes are turned into -errno at this boundary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"
#include "utf8.h"

#include "nacctd-capture.h"
#include "nacctd-decode.h"

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
        NacctCapture *c = (NacctCapture *)user;

        c->packets++;
        nacct_acct_packet(c->acct, c->dev, c->dlt, (int64_t)h->ts.tv_sec, bytes, h->caplen, h->len,
                          c->has_mac ? c->mac : NULL);
}

int nacct_capture_dispatch(NacctCapture *c, int budget)
{
        int n;

        if (c->error < 0)
                return c->error;
        n = pcap_dispatch(c->pcap, budget, on_packet, (u_char *)c);
        if (n == PCAP_ERROR) {
                log_debug("Capture on '%s' failed: %s", c->shown, pcap_geterr(c->pcap));
                c->error = -ENODEV;
                return c->error;
        }
        return n < 0 ? 0 : n;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        NacctCapture *c = userdata;
        int r;

        r = nacct_capture_dispatch(c, NACCT_CAPTURE_BUDGET);
        if (r < 0) {
                /* The daemon learns from netlink (or its next reconcile) and closes us. */
                (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
                log_info("Capture on '%s' stopped: %s.", c->shown, pcap_geterr(c->pcap));
        }
        return 0;
}

static int pcap_error_to_errno(int e)
{
        switch (e) {
        case PCAP_ERROR_NO_SUCH_DEVICE:
                return -ENODEV;
        case PCAP_ERROR_PERM_DENIED:
        case PCAP_ERROR_PROMISC_PERM_DENIED:
                return -EPERM;
        case PCAP_ERROR_IFACE_NOT_UP:
                return -ENETDOWN;
        case PCAP_ERROR_RFMON_NOTSUP:
        case PCAP_ERROR_NOT_RFMON:
                return -EOPNOTSUPP;
        default:
                return -EIO;
        }
}

int nacct_capture_open(sd_event *e, NacctAcct *acct, int ifindex, const char *name,
                       const uint8_t *mac, size_t mac_len, const NacctCaptureParams *params,
                       NacctCapture **ret, char *errmsg)
{
        _cleanup_(nacct_capture_freep) NacctCapture *c = NULL;
        int r, fd;

        errmsg[0] = '\0';
        if (strlen(name) >= sizeof(c->name)) {
                snprintf(errmsg, PCAP_ERRBUF_SIZE, "interface name too long");
                return -ENAMETOOLONG;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->acct = acct;
        c->ifindex = ifindex;
        c->dev = UINT16_MAX;
        strcpy(c->name, name);
        utf8_escape_invisible_buf(c->name, strlen(c->name), c->shown);
        if (mac && mac_len == 6) {
                memcpy(c->mac, mac, 6);
                c->has_mac = true;
        }
        c->promisc = params->promisc;

        c->pcap = pcap_create(name, errmsg);
        if (!c->pcap)
                return -ENOMEM;
        if (pcap_set_snaplen(c->pcap, (int)params->snaplen) < 0 ||
            pcap_set_promisc(c->pcap, params->promisc) < 0 ||
            pcap_set_timeout(c->pcap, NACCT_CAPTURE_TIMEOUT_MS) < 0 ||
            pcap_set_buffer_size(c->pcap, (int)params->buffer_size) < 0 ||
            pcap_set_immediate_mode(c->pcap, 0) < 0) {
                snprintf(errmsg, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(c->pcap));
                return -EINVAL;
        }
        r = pcap_activate(c->pcap);
        if (r < 0) {
                snprintf(errmsg, PCAP_ERRBUF_SIZE, "%s",
                         r == PCAP_ERROR ? pcap_geterr(c->pcap) : pcap_statustostr(r));
                return pcap_error_to_errno(r);
        }
        if (r > 0)
                log_notice("Capture on '%s': %s", c->shown, pcap_statustostr(r));
        c->dlt = pcap_datalink(c->pcap);
        if (!nacct_dlt_supported(c->dlt)) {
                snprintf(errmsg, PCAP_ERRBUF_SIZE, "link type %s (%d) is not decoded",
                         pcap_datalink_val_to_name(c->dlt) ?: "?", c->dlt);
                return -EPROTONOSUPPORT;
        }
        if (pcap_setnonblock(c->pcap, 1, errmsg) < 0)
                return -EIO;
        fd = pcap_get_selectable_fd(c->pcap);
        if (fd < 0) {
                snprintf(errmsg, PCAP_ERRBUF_SIZE, "no selectable file descriptor");
                return -EIO;
        }
        r = nacct_acct_device_ref(acct, name, &c->dev);
        if (r < 0) {
                c->dev = UINT16_MAX;
                snprintf(errmsg, PCAP_ERRBUF_SIZE, "too many interface names in use");
                return r;
        }
        r = sd_event_add_io(e, &c->io, fd, EPOLLIN, on_io, c);
        if (r < 0) {
                snprintf(errmsg, PCAP_ERRBUF_SIZE, "cannot watch the capture: %s", strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int nacct_capture_rename(NacctCapture *c, const char *name)
{
        uint16_t dev;
        int r;

        if (strlen(name) >= sizeof(c->name))
                return -ENAMETOOLONG;
        r = nacct_acct_device_ref(c->acct, name, &dev);
        if (r < 0)
                return r;
        nacct_acct_device_unref(c->acct, c->dev);
        c->dev = dev;
        strcpy(c->name, name);
        utf8_escape_invisible_buf(c->name, strlen(c->name), c->shown);
        return 0;
}

uint64_t nacct_capture_take_drops(NacctCapture *c)
{
        struct pcap_stat ps;
        uint64_t d;

        if (!c->pcap || pcap_stats(c->pcap, &ps) < 0)
                return 0;
        if (ps.ps_drop < c->drops_reported)
                c->drops_reported = 0; /* 32-bit wrap */
        d = ps.ps_drop - c->drops_reported;
        c->drops_reported = ps.ps_drop;
        return d;
}

NacctCapture *nacct_capture_free(NacctCapture *c)
{
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->io);
        if (c->pcap)
                pcap_close(c->pcap);
        if (c->dev != UINT16_MAX)
                nacct_acct_device_unref(c->acct, c->dev);
        free(c);
        return NULL;
}
