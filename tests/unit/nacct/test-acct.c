/* test-acct.c - the per-packet path: the original's filters in the original's order, user
 * association on either side, direction, time bins, the table limit, a configuration switch. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nacctd-acct.h"
#include "nacctd-decode.h"
#include "nacctd-net.h"
#include "test.h"

static char dir[] = "/tmp/test-nacct-acct-XXXXXX";
static const uint8_t mac_self[6] = {2, 0, 0, 0, 0, 0x55};
static const uint8_t mac_peer[6] = {2, 0, 0, 0, 0, 0x66};

/* An Ethernet/IPv4/UDP frame with payload_len bytes of payload. */
static size_t udp_frame(uint8_t *b, const uint8_t src_mac[6], const char *src, uint16_t sport,
                        const char *dst, uint16_t dport, size_t payload_len)
{
        size_t total = 20 + 8 + payload_len;

        memset(b, 0, 14 + total);
        memcpy(b, mac_peer, 6);
        memcpy(b + 6, src_mac, 6);
        b[12] = 0x08;
        b[14] = 0x45;
        b[16] = (uint8_t)(total >> 8);
        b[17] = (uint8_t)total;
        b[22] = 64;
        b[23] = 17;
        inet_pton(AF_INET, src, b + 26);
        inet_pton(AF_INET, dst, b + 30);
        b[34] = (uint8_t)(sport >> 8);
        b[35] = (uint8_t)sport;
        b[36] = (uint8_t)(dport >> 8);
        b[37] = (uint8_t)dport;
        return 14 + total;
}

static NacctConfig *cfg(const char *text)
{
        NacctConfig *c = NULL;
        NacctConfigReport rep;

        if (nacct_config_parse("t", text, strlen(text), &rep, &c) < 0) {
                for (size_t i = 0; i < rep.n; i++)
                        fprintf(stderr, "%u: %s\n", rep.messages[i].line, rep.messages[i].text);
                return NULL;
        }
        return c;
}

static void send_udp(NacctAcct *a, uint16_t dev, int64_t ts, const char *src, uint16_t sport,
                     const char *dst, uint16_t dport, size_t payload, const uint8_t *mac)
{
        uint8_t b[1600];
        size_t n = udp_frame(b, mac ?: mac_peer, src, sport, dst, dport, payload);

        nacct_acct_packet(a, dev, NACCT_DLT_EN10MB, ts, b, (uint32_t)n, (uint32_t)n, mac_self);
}

static NacctFlow *find(NacctAcct *a, const char *src, uint16_t sport, const char *dst,
                       uint16_t dport)
{
        for (uint32_t i = 0; i < a->table->n; i++) {
                NacctFlow *f = &a->table->flows[i];
                char s[NACCT_ADDR_STRLEN], d[NACCT_ADDR_STRLEN];

                nacct_addr_format(f->key.family, f->key.src, s);
                nacct_addr_format(f->key.family, f->key.dst, d);
                if (streq(s, src) && streq(d, dst) && f->key.sport == sport &&
                    f->key.dport == dport)
                        return f;
        }
        return NULL;
}

static const char *user_of(NacctAcct *a, NacctFlow *f)
{
        if (!f)
                return "NOFLOW";
        return f->user == NACCT_NAME_NONE ? "unknown" : nacct_names_get(a->users, f->user);
}

static void test_filters(void)
{
        NacctConfig *c = cfg("file /dev/null\n"
                             "notdev eth1\n"
                             "ignoremask 255.255.255.0\n"
                             "ignorenet 192.0.2.0/24\n"
                             "dontignore 192.0.2.53\n");
        NacctAcct *a = NULL;
        uint16_t eth0, eth1;

        ASSERT_TRUE(c != NULL);
        ASSERT_EQ_INT(nacct_acct_new(c, &a), 0);
        ASSERT_EQ_INT(nacct_acct_device_ref(a, "eth0", &eth0), 0);
        ASSERT_EQ_INT(nacct_acct_device_ref(a, "eth1", &eth1), 0);

        send_udp(a, eth1, 100, "10.0.0.1", 1, "10.9.0.1", 2, 10, NULL);
        ASSERT_EQ_INT(a->counters.notdev, 1);
        /* ignoremask /24: same /24 is local, checked before ignorenet. */
        send_udp(a, eth0, 100, "192.0.2.1", 1, "192.0.2.2", 2, 10, NULL);
        ASSERT_EQ_INT(a->counters.local, 1);
        ASSERT_EQ_INT(a->counters.netignored, 0);
        send_udp(a, eth0, 100, "192.0.2.1", 1, "10.0.0.1", 2, 10, NULL);
        ASSERT_EQ_INT(a->counters.netignored, 1);
        /* dontignore on either side wins over ignorenet. */
        send_udp(a, eth0, 100, "10.0.0.1", 3, "192.0.2.53", 53, 10, NULL);
        send_udp(a, eth0, 100, "192.0.2.53", 53, "10.0.0.1", 3, 10, NULL);
        ASSERT_EQ_INT(a->counters.netignored, 1);
        ASSERT_EQ_INT(a->counters.packets, 2);
        ASSERT_EQ_INT(a->counters.bytes, 2 * 38);

        /* The same flow again (the cached last record), then interleaved. */
        send_udp(a, eth0, 101, "10.0.0.1", 3, "192.0.2.53", 53, 100, NULL);
        send_udp(a, eth0, 102, "192.0.2.53", 53, "10.0.0.1", 3, 10, NULL);
        send_udp(a, eth0, 103, "10.0.0.1", 3, "192.0.2.53", 53, 100, NULL);
        {
                NacctFlow *f = find(a, "10.0.0.1", 3, "192.0.2.53", 53);

                ASSERT_TRUE(f && f->packets == 3 && f->bytes == 38 + 2 * 128);
                ASSERT_TRUE(f && f->first == 100 && f->last == 103);
                ASSERT_EQ_INT(a->table->n, 2);
        }
        /* Not IP. */
        {
                uint8_t arp[60] = {0};

                arp[12] = 0x08;
                arp[13] = 0x06;
                nacct_acct_packet(a, eth0, NACCT_DLT_EN10MB, 100, arp, 60, 60, NULL);
                ASSERT_EQ_INT(a->counters.ignored, 1);
                nacct_acct_packet(a, eth0, NACCT_DLT_EN10MB, 100, arp, 20, 60, NULL);
                ASSERT_EQ_INT(a->counters.ignored, 2);
                arp[13] = 0;
                nacct_acct_packet(a, eth0, NACCT_DLT_EN10MB, 100, arp, 20, 60, NULL);
                ASSERT_EQ_INT(a->counters.truncated, 1);
                nacct_acct_packet(a, eth0, NACCT_DLT_EN10MB, 100, arp, 60, 60, NULL);
                ASSERT_EQ_INT(a->counters.malformed, 1);
        }
        nacct_acct_device_unref(a, eth0);
        nacct_acct_device_unref(a, eth1);
        nacct_acct_free(a);
        nacct_config_free(c);
}

static void test_default_mask_and_hostlimit(void)
{
        NacctConfig *c = cfg("file /dev/null\nhostlimit 10.0.0.7\n");
        NacctAcct *a = NULL;
        uint16_t dev;

        ASSERT_EQ_INT(nacct_acct_new(c, &a), 0);
        nacct_acct_device_ref(a, "lo", &dev);
        /* The default /32 ignoremask drops only src == dst (127.0.0.1 -> 127.0.0.1). */
        send_udp(a, dev, 5, "10.0.0.7", 1, "10.0.0.7", 2, 0, NULL);
        ASSERT_EQ_INT(a->counters.local, 1);
        send_udp(a, dev, 5, "10.0.0.7", 1, "10.0.0.8", 2, 0, NULL);
        send_udp(a, dev, 5, "10.0.0.9", 1, "10.0.0.7", 2, 0, NULL);
        send_udp(a, dev, 5, "10.0.0.9", 1, "10.0.0.8", 2, 0, NULL);
        ASSERT_EQ_INT(a->counters.hostlimit, 1);
        ASSERT_EQ_INT(a->counters.packets, 2);
        nacct_acct_device_unref(a, dev);
        nacct_acct_free(a);
        nacct_config_free(c);
}

static void test_dynamicip(void)
{
        char text[1024], path[256];
        NacctConfig *c;
        NacctAcct *a = NULL;
        uint16_t dev;
        int fd;

        snprintf(path, sizeof(path), "%s/10.200.1.2", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        (void)!write(fd, "alice\n", 6);
        close(fd);
        snprintf(path, sizeof(path), "%s/10.200.1.1", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        (void)!write(fd, "router\n", 7);
        close(fd);
        snprintf(text, sizeof(text),
                 "file /dev/null\n"
                 "dynamicip %s/\n"
                 "dynamicnet 10.200.1.0 255.255.255.0\n"
                 "exclude-name-lookup 10.200.1.1 255.255.255.255\n",
                 dir);
        c = cfg(text);
        ASSERT_EQ_INT(nacct_acct_new(c, &a), 0);
        nacct_acct_device_ref(a, "eth0", &dev);

        /* The dynamic address as source, as destination; the excluded router's side is
         * skipped in favour of the other address; outside dynamicnet: unknown. */
        send_udp(a, dev, 10, "10.200.1.2", 1, "10.200.2.2", 2, 0, NULL);
        send_udp(a, dev, 10, "10.200.2.2", 2, "10.200.1.2", 1, 0, NULL);
        send_udp(a, dev, 10, "10.200.1.1", 7, "10.200.1.2", 8, 0, NULL);
        send_udp(a, dev, 10, "10.200.2.2", 9, "10.200.1.1", 9, 0, NULL);
        send_udp(a, dev, 10, "10.200.2.2", 9, "10.200.2.3", 9, 0, NULL);
        ASSERT_STREQ(user_of(a, find(a, "10.200.1.2", 1, "10.200.2.2", 2)), "alice");
        ASSERT_EQ_INT(find(a, "10.200.1.2", 1, "10.200.2.2", 2)->user_side, NACCT_USER_SIDE_SRC);
        ASSERT_STREQ(user_of(a, find(a, "10.200.2.2", 2, "10.200.1.2", 1)), "alice");
        ASSERT_EQ_INT(find(a, "10.200.2.2", 2, "10.200.1.2", 1)->user_side, NACCT_USER_SIDE_DST);
        ASSERT_STREQ(user_of(a, find(a, "10.200.1.1", 7, "10.200.1.2", 8)), "alice");
        ASSERT_STREQ(user_of(a, find(a, "10.200.2.2", 9, "10.200.1.1", 9)), "unknown");
        ASSERT_STREQ(user_of(a, find(a, "10.200.2.2", 9, "10.200.2.3", 9)), "unknown");

        /* A new configuration without dynamicip: users are looked up again at the next
         * packet of each flow. */
        {
                NacctConfig *c2 = cfg("file /dev/null\n");

                ASSERT_EQ_INT(nacct_acct_set_config(a, c2), 0);
                send_udp(a, dev, 11, "10.200.1.2", 1, "10.200.2.2", 2, 0, NULL);
                ASSERT_STREQ(user_of(a, find(a, "10.200.1.2", 1, "10.200.2.2", 2)), "unknown");
                ASSERT_STREQ(user_of(a, find(a, "10.200.2.2", 2, "10.200.1.2", 1)), "alice");
                ASSERT_EQ_INT(nacct_acct_set_config(a, c), 0);
                nacct_config_free(c2);
        }
        nacct_acct_device_unref(a, dev);
        nacct_acct_free(a);
        nacct_config_free(c);
}

static void test_direction_bins_limit(void)
{
        NacctConfig *c = cfg("file /dev/null\nbin 60\nmaxflows 1000\n");
        NacctAcct *a = NULL;
        uint16_t dev;
        NacctFlow *f;

        ASSERT_EQ_INT(nacct_acct_new(c, &a), 0);
        nacct_acct_device_ref(a, "eth0", &dev);
        /* Sent by us (our MAC as source) is out, the rest in. */
        send_udp(a, dev, 119, "10.0.0.1", 5, "10.0.0.2", 6, 12, mac_self);
        send_udp(a, dev, 119, "10.0.0.1", 5, "10.0.0.2", 6, 12, mac_peer);
        f = find(a, "10.0.0.1", 5, "10.0.0.2", 6);
        ASSERT_TRUE(f && f->db_packets[NACCT_DIR_OUT] == 1 && f->db_packets[NACCT_DIR_IN] == 1);
        ASSERT_TRUE(f && f->bin == 60);
        /* The next bin: what the flow had so far moves into the aggregates of bin 60. */
        send_udp(a, dev, 120, "10.0.0.1", 5, "10.0.0.2", 6, 12, mac_peer);
        f = find(a, "10.0.0.1", 5, "10.0.0.2", 6);
        ASSERT_TRUE(f && f->bin == 120 && f->db_packets[NACCT_DIR_IN] == 1 &&
                    f->db_packets[NACCT_DIR_OUT] == 0 && f->packets == 3);
        {
                bool found = false;

                for (size_t i = 0; i < a->agg->n; i++)
                        if (a->agg->entries[i].key.kind == NACCT_AGG_TOTAL &&
                            a->agg->entries[i].key.bin == 60 &&
                            a->agg->entries[i].packets[0] == 2 && a->agg->entries[i].bytes[0] == 80)
                                found = true;
                ASSERT_TRUE(found);
        }
        /* 1000 flows at most: the next new one is dropped and asks for an early flush. */
        for (unsigned i = 1; i < 1100; i++)
                send_udp(a, dev, 130, "10.1.0.1", (uint16_t)i, "10.1.0.2", 9, 0, NULL);
        ASSERT_EQ_INT(a->table->n, 1000);
        ASSERT_EQ_INT(a->counters.table_full, 100);
        ASSERT_TRUE(a->full);
        ASSERT_EQ_INT(a->counters.flows, 1000);
        /* Releasing records gives back the interface name references. */
        for (uint32_t i = 0; i < a->table->n; i++)
                nacct_acct_flow_release(a, &a->table->flows[i]);
        nacct_flow_sweep(a->table);
        nacct_agg_clear(a->agg);
        ASSERT_EQ_INT(nacct_names_refs(a->devices, dev), 1);
        nacct_acct_device_unref(a, dev);
        ASSERT_EQ_INT(nacct_names_count(a->devices), 0);
        nacct_acct_free(a);
        nacct_config_free(c);
}

int main(void)
{
        char cmd[128];

        if (!mkdtemp(dir))
                return 1;
        test_filters();
        test_default_mask_and_hostlimit();
        test_dynamicip();
        test_direction_bins_limit();
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)!system(cmd);
        return test_result();
}
