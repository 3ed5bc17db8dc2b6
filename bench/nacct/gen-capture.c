/* gen-capture.c - write a pcap of N Ethernet/IPv4 frames (TCP, UDP, ICMP) over F flows and
 * print what an exact accountant must find: packets, bytes (IP lengths) and flows, as JSON.
 * Frames are stored cut at SNAPLEN bytes (default 96, as "tcpdump -s 96" would), the length on
 * the wire kept: the headers are all an accountant reads.
 * Usage: gen-capture FILE [PACKETS [FLOWS [SECONDS [SEED [SNAPLEN [MAXPAYLOAD]]]]]] */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Flow {
        uint32_t src, dst;
        uint16_t sport, dport;
        uint8_t proto;
        uint64_t packets, bytes;
} Flow;

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
        uint32_t s = 0;

        for (size_t i = 0; i + 1 < n; i += 2)
                s += (uint32_t)(p[i] << 8 | p[i + 1]);
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint16_t)~s;
}

int main(int argc, char **argv)
{
        uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 5000000;
        uint64_t nflows = argc > 3 ? strtoull(argv[3], NULL, 10) : 5000;
        uint64_t seconds = argc > 4 ? strtoull(argv[4], NULL, 10) : 60;
        uint64_t snaplen = argc > 6 ? strtoull(argv[6], NULL, 10) : 96;
        uint64_t maxpayload = argc > 7 ? strtoull(argv[7], NULL, 10) : 1400;
        uint64_t total_bytes = 0, used = 0;
        uint32_t t0 = 1700000000;
        static uint8_t frame[2048];
        Flow *flows;
        FILE *f;

        if (argc < 2 || nflows == 0 || snaplen < 54 || snaplen > 2048 || maxpayload < 1 ||
            maxpayload > 1400) {
                fprintf(stderr, "usage: gen-capture FILE [PACKETS [FLOWS [SECONDS [SEED "
                                "[SNAPLEN [MAXPAYLOAD]]]]]]\n");
                return 2;
        }
        if (argc > 5)
                rng ^= strtoull(argv[5], NULL, 10) * 0x9e3779b97f4a7c15ULL;
        flows = calloc(nflows, sizeof(Flow));
        f = fopen(argv[1], "w");
        if (!flows || !f)
                return 1;
        setvbuf(f, NULL, _IOFBF, 1 << 20);
        for (uint64_t i = 0; i < nflows; i++) {
                uint64_t r = next();

                flows[i].src = htonl(0x0a000000u | (uint32_t)(r & 0xffffff));
                flows[i].dst = htonl(0xc0a80000u | (uint32_t)((r >> 24) & 0xffff));
                flows[i].proto = (r >> 40) % 10 < 6 ? 6 : (r >> 40) % 10 < 9 ? 17 : 1;
                flows[i].sport = (uint16_t)(1024 + (r >> 44) % 60000);
                flows[i].dport = (uint16_t)((uint16_t[]){80, 443, 53, 22, 8080}[(r >> 60) % 5]);
        }
        {
                uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, (uint32_t)snaplen, 1};
                fwrite(hdr, 4, 6, f);
        }
        memcpy(frame, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
        for (uint64_t i = 0; i < n; i++) {
                /* Flows are picked with a skew (a few heavy, many light), in bursts of 1-4. */
                uint64_t r = next();
                Flow *fl = &flows[(r & 1) ? (r >> 8) % (nflows / 10 + 1) : (r >> 8) % nflows];
                unsigned burst = 1 + (unsigned)((r >> 40) & 3);

                for (unsigned b = 0; b < burst && i < n; b++, i++) {
                        size_t payload = (size_t)((next() >> 20) % maxpayload);
                        size_t l4 = fl->proto == 6 ? 20 : 8, ip = 20 + l4 + payload;
                        uint8_t *p = frame + 14;
                        uint32_t rec[4];

                        if (fl->proto == 1)
                                payload = 56, ip = 20 + 8 + 56;
                        memset(p, 0, 20 + l4);
                        p[0] = 0x45;
                        p[2] = (uint8_t)(ip >> 8);
                        p[3] = (uint8_t)ip;
                        p[8] = 64;
                        p[9] = fl->proto;
                        memcpy(p + 12, &fl->src, 4);
                        memcpy(p + 16, &fl->dst, 4);
                        {
                                uint16_t c = csum(p, 20);
                                p[10] = (uint8_t)(c >> 8);
                                p[11] = (uint8_t)c;
                        }
                        if (fl->proto == 1) {
                                p[20] = 8;
                        } else {
                                p[20] = (uint8_t)(fl->sport >> 8);
                                p[21] = (uint8_t)fl->sport;
                                p[22] = (uint8_t)(fl->dport >> 8);
                                p[23] = (uint8_t)fl->dport;
                                if (fl->proto == 6)
                                        p[32] = 0x50;
                        }
                        rec[0] = t0 + (uint32_t)(i * seconds / (n ? n : 1));
                        rec[1] = (uint32_t)(i % 1000000);
                        rec[2] = (uint32_t)(14 + ip < snaplen ? 14 + ip : snaplen);
                        rec[3] = (uint32_t)(14 + ip);
                        fwrite(rec, 4, 4, f);
                        fwrite(frame, 1, rec[2], f);
                        if (fl->packets == 0)
                                used++;
                        fl->packets++;
                        fl->bytes += ip;
                        total_bytes += ip;
                }
                i--;
        }
        if (fclose(f) != 0)
                return 1;
        printf("{\"packets\": %llu, \"bytes\": %llu, \"flows\": %llu, \"seconds\": %llu}\n",
               (unsigned long long)n, (unsigned long long)total_bytes, (unsigned long long)used,
               (unsigned long long)seconds);
        free(flows);
        return 0;
}
