/* pcap-count.c - the read limit: pcap_loop() over a file with a callback that only counts
 * frames and sums their lengths. Prints "packets bytes". */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

static void count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
        uint64_t *c = (uint64_t *)user;

        c[0]++;
        c[1] += h->len;
        (void)bytes;
}

int main(int argc, char **argv)
{
        char err[PCAP_ERRBUF_SIZE];
        uint64_t c[2] = {0, 0};
        pcap_t *p;

        if (argc != 2) {
                fprintf(stderr, "usage: pcap-count FILE\n");
                return 2;
        }
        p = pcap_open_offline(argv[1], err);
        if (!p) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        if (pcap_loop(p, -1, count, (u_char *)c) == PCAP_ERROR) {
                fprintf(stderr, "%s\n", pcap_geterr(p));
                return 1;
        }
        pcap_close(p);
        printf("%llu %llu\n", (unsigned long long)c[0], (unsigned long long)c[1]);
        return 0;
}
