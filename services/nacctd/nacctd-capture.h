/* nacctd-capture.h - one libpcap capture per interface: TPACKET_V3 ring (immediate mode off), a
 * buffer size, non-blocking, its selectable fd in the sd-event loop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pcap/pcap.h>
#include <systemd/sd-event.h>

#include "macro.h"

#include "nacctd-acct.h"

#define NACCT_CAPTURE_TIMEOUT_MS 100 /* block retire timeout of the ring */
#define NACCT_CAPTURE_BUDGET 8192    /* frames per dispatch, so interfaces take turns */

typedef struct NacctCaptureParams {
        uint32_t snaplen;
        uint64_t buffer_size;
        bool promisc;
} NacctCaptureParams;

typedef struct NacctCapture {
        NacctAcct *acct; /* borrowed */
        int ifindex;
        char name[16];
        char shown[16 * 4 + 1]; /* name for messages: utf8_escape_invisible() */
        uint16_t dev;           /* a reference on the name in acct->devices */
        uint8_t mac[6];
        bool has_mac;
        bool promisc;
        pcap_t *pcap;
        int dlt;
        sd_event_source *io;
        uint64_t drops_reported; /* kernel drops already counted */
        uint64_t drops_total;    /* kernel drops since the capture opened */
        uint64_t packets;        /* frames seen (accounted or not) */
        int error;               /* set when the capture failed: to be closed */
} NacctCapture;

/* Open a capture on an interface. Returns -errno with a message in errmsg (PCAP_ERRBUF_SIZE
 * bytes) on failure; -ENETDOWN if the interface is not up, -EPROTONOSUPPORT for a link type we
 * cannot decode. */
int nacct_capture_open(sd_event *e, NacctAcct *acct, int ifindex, const char *name,
                       const uint8_t *mac, size_t mac_len, const NacctCaptureParams *params,
                       NacctCapture **ret, char *errmsg);

/* Read what the ring holds, at most budget frames (-1: all). Returns frames read, or -errno if
 * the capture failed (interface gone or down). */
int nacct_capture_dispatch(NacctCapture *c, int budget);

/* Read everything, waiting up to timeout_ms for the kernel to hand over the last block. */
void nacct_capture_drain(NacctCapture *c, int timeout_ms);

/* The interface got a new name. */
int nacct_capture_rename(NacctCapture *c, const char *name);

/* Kernel drops since the last call. */
uint64_t nacct_capture_take_drops(NacctCapture *c);

NacctCapture *nacct_capture_free(NacctCapture *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctCapture *, nacct_capture_free)
