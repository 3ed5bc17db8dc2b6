/* test-flow.c - the flow table (insert, find, limit, sweep, growth), interned names with
 * reference counts, and the per-bin aggregates a flow folds into. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nacctd-agg.h"
#include "nacctd-decode.h"
#include "nacctd-flow.h"
#include "nacctd-hash.h"
#include "nacctd-names.h"
#include "nacctd-net.h"
#include "test.h"

static NacctKey key(uint32_t i)
{
        NacctKey k;

        memset(&k, 0, sizeof(k));
        k.family = NACCT_FAMILY_V4;
        k.proto = 6;
        k.src[0] = 10;
        k.src[1] = (uint8_t)(i >> 16);
        k.src[2] = (uint8_t)(i >> 8);
        k.src[3] = (uint8_t)i;
        k.dst[0] = 10;
        k.dst[3] = 1;
        k.sport = (uint16_t)(1024 + i % 50000);
        k.dport = 80;
        return k;
}

static void test_siphash(void)
{
        /* The reference vector of SipHash-1-3 is not published in the paper; check the
         * properties we rely on: deterministic per key, different per key and input. */
        NacctHashKey k1 = {1, 2}, k2 = {1, 3};
        uint8_t in[40] = {0};

        ASSERT_TRUE(nacct_siphash13(&k1, in, 40) == nacct_siphash13(&k1, in, 40));
        ASSERT_TRUE(nacct_siphash13(&k1, in, 40) != nacct_siphash13(&k2, in, 40));
        in[39] = 1;
        ASSERT_TRUE(nacct_siphash13(&k1, in, 40) != nacct_siphash13(&k1, in + 1, 39));
        for (size_t len = 0; len < 20; len++)
                (void)nacct_siphash13(&k1, in, len);
}

static void test_table(void)
{
        NacctFlowTable *t = NULL;
        bool created;
        NacctFlow *f;

        ASSERT_EQ_INT(nacct_flow_table_new(0, &t), -EINVAL);
        ASSERT_EQ_INT(nacct_flow_table_new(20000, &t), 0);
        /* Grow through several index sizes. */
        for (uint32_t i = 0; i < 20000; i++) {
                NacctKey k = key(i);

                f = nacct_flow_get(t, &k, nacct_flow_hash(t, &k), &created);
                ASSERT_TRUE(f && created);
                if (f)
                        f->packets = i + 1;
        }
        ASSERT_EQ_INT(t->n, 20000);
        /* Full: a new key is refused, an existing one is found. */
        {
                NacctKey k = key(20000), old = key(123);

                ASSERT_TRUE(nacct_flow_get(t, &k, nacct_flow_hash(t, &k), &created) == NULL);
                f = nacct_flow_get(t, &old, nacct_flow_hash(t, &old), &created);
                ASSERT_TRUE(f && !created && f->packets == 124);
        }
        /* Every key finds its own record. */
        {
                unsigned wrong = 0;

                for (uint32_t i = 0; i < 20000; i++) {
                        NacctKey k = key(i);

                        f = nacct_flow_get(t, &k, nacct_flow_hash(t, &k), &created);
                        if (!f || created || f->packets != i + 1)
                                wrong++;
                }
                ASSERT_EQ_INT(wrong, 0);
        }
        /* Sweep every other record; the rest keep their data and are found again. */
        for (uint32_t i = 0; i < t->n; i++)
                t->flows[i].dead = t->flows[i].packets % 2 == 0;
        nacct_flow_sweep(t);
        ASSERT_EQ_INT(t->n, 10000);
        {
                unsigned wrong = 0;

                for (uint32_t i = 0; i < 20000; i++) {
                        NacctKey k = key(i);

                        f = nacct_flow_get(t, &k, nacct_flow_hash(t, &k), &created);
                        if (!f)
                                wrong++;
                        else if ((i + 1) % 2 == 1 && (created || f->packets != i + 1))
                                wrong++;
                        else if ((i + 1) % 2 == 0 && !created)
                                wrong++;
                }
                ASSERT_EQ_INT(wrong, 0);
        }
        ASSERT_EQ_INT(t->n, 20000);
        /* Sweep all: empty and usable. */
        for (uint32_t i = 0; i < t->n; i++)
                t->flows[i].dead = true;
        nacct_flow_sweep(t);
        ASSERT_EQ_INT(t->n, 0);
        {
                NacctKey k = key(5);

                f = nacct_flow_get(t, &k, nacct_flow_hash(t, &k), &created);
                ASSERT_TRUE(f && created);
        }
        ASSERT_TRUE(t->probes >= t->lookups);
        nacct_flow_table_set_max(t, 1);
        {
                NacctKey k = key(6);

                ASSERT_TRUE(nacct_flow_get(t, &k, nacct_flow_hash(t, &k), &created) == NULL);
        }
        nacct_flow_table_free(t);
}

static void test_names(void)
{
        NacctNames *n = NULL;
        uint32_t a, b, c, d;
        char name[32];

        ASSERT_EQ_INT(nacct_names_new(3, &n), 0);
        ASSERT_EQ_INT(nacct_names_ref(n, "eth0", &a), 0);
        ASSERT_EQ_INT(nacct_names_ref(n, "eth1", &b), 0);
        ASSERT_EQ_INT(nacct_names_ref(n, "eth0", &c), 0);
        ASSERT_EQ_INT(a, c);
        ASSERT_TRUE(a != b);
        ASSERT_EQ_INT(nacct_names_refs(n, a), 2);
        ASSERT_STREQ(nacct_names_get(n, b), "eth1");
        ASSERT_EQ_INT(nacct_names_ref(n, "", &d), -EINVAL);
        ASSERT_EQ_INT(nacct_names_ref(n, "x", &d), 0);
        ASSERT_EQ_INT(nacct_names_ref(n, "y", &d), -E2BIG);
        ASSERT_EQ_INT(nacct_names_count(n), 3);
        /* The last reference frees the name and its id is reused. */
        nacct_names_unref(n, b);
        ASSERT_TRUE(nacct_names_get(n, b) == NULL);
        ASSERT_EQ_INT(nacct_names_ref(n, "y", &d), 0);
        ASSERT_EQ_INT(d, b);
        nacct_names_unref(n, a);
        ASSERT_STREQ(nacct_names_get(n, a), "eth0");
        nacct_names_unref(n, NACCT_NAME_NONE);
        nacct_names_free(n);

        /* Churn: many names come and go, lookups stay right (index deletions). */
        ASSERT_EQ_INT(nacct_names_new(64, &n), 0);
        {
                uint32_t ids[64];
                unsigned wrong = 0;

                for (int round = 0; round < 50; round++) {
                        for (int i = 0; i < 64; i++) {
                                snprintf(name, sizeof(name), "veth%d", round * 64 + i);
                                if (nacct_names_ref(n, name, &ids[i]) < 0)
                                        wrong++;
                        }
                        for (int i = 0; i < 64; i++) {
                                snprintf(name, sizeof(name), "veth%d", round * 64 + i);
                                if (!streq_ptr(nacct_names_get(n, ids[i]), name))
                                        wrong++;
                                if (nacct_names_ref(n, name, &a) < 0 || a != ids[i])
                                        wrong++;
                        }
                        for (int i = 63; i >= 0; i--) {
                                nacct_names_unref(n, ids[i]);
                                nacct_names_unref(n, ids[i]);
                        }
                        if (nacct_names_count(n) != 0)
                                wrong++;
                }
                ASSERT_EQ_INT(wrong, 0);
        }
        nacct_names_free(n);
}

static const NacctAggEntry *agg_find(const NacctAgg *a, NacctAggKind kind, uint16_t port,
                                     uint8_t proto, const char *addr)
{
        for (size_t i = 0; i < a->n; i++) {
                const NacctAggKey *k = &a->entries[i].key;
                char buf[NACCT_ADDR_STRLEN];

                if (k->kind != kind || k->port != port || k->proto != proto)
                        continue;
                if (addr) {
                        nacct_addr_format(k->family, k->addr, buf);
                        if (!streq(buf, addr))
                                continue;
                }
                return &a->entries[i];
        }
        return NULL;
}

static void test_agg(void)
{
        NacctNames *devs = NULL, *users = NULL;
        NacctAgg *a = NULL;
        NacctFlow f;
        const NacctAggEntry *e;
        uint32_t dev, alice;
        uint16_t port;
        int dir;

        ASSERT_EQ_INT(nacct_names_new(16, &devs), 0);
        ASSERT_EQ_INT(nacct_names_new(16, &users), 0);
        ASSERT_EQ_INT(nacct_agg_new(devs, users, 1000, &a), 0);
        ASSERT_EQ_INT(nacct_names_ref(devs, "eth0", &dev), 0);
        ASSERT_EQ_INT(nacct_names_ref(users, "alice", &alice), 0);

        memset(&f, 0, sizeof(f));
        f.key = key(1); /* 10.0.0.1:1025 -> 10.0.0.1:80 */
        f.key.dev = (uint16_t)dev;
        f.user = alice;
        f.user_side = NACCT_USER_SIDE_SRC;
        f.bin = 3600;
        f.db_packets[NACCT_DIR_IN] = 3;
        f.db_bytes[NACCT_DIR_IN] = 300;
        f.db_packets[NACCT_DIR_OUT] = 1;
        f.db_bytes[NACCT_DIR_OUT] = 40;
        nacct_agg_fold_flow(a, &f);
        ASSERT_EQ_INT(f.db_packets[0] + f.db_packets[1], 0);
        nacct_agg_fold_flow(a, &f); /* nothing left: no change */

        e = agg_find(a, NACCT_AGG_TOTAL, 0, 0, NULL);
        ASSERT_TRUE(e && e->bytes[0] + e->bytes[1] == 340 && e->packets[0] + e->packets[1] == 4);
        e = agg_find(a, NACCT_AGG_IFACE, 0, 0, NULL);
        ASSERT_TRUE(e && e->bytes[NACCT_DIR_IN] == 300 && e->bytes[NACCT_DIR_OUT] == 40 &&
                    e->key.bin == 3600);
        e = agg_find(a, NACCT_AGG_PROTO, 0, 6, NULL);
        ASSERT_TRUE(e && e->packets[NACCT_DIR_IN] == 3 && e->packets[NACCT_DIR_OUT] == 1);
        /* The service port is 80 (the lower one), the packets went towards it. */
        e = agg_find(a, NACCT_AGG_PORT, 80, 6, NULL);
        ASSERT_TRUE(e && e->bytes[NACCT_DIR_IN] == 340 && e->bytes[NACCT_DIR_OUT] == 0);
        e = agg_find(a, NACCT_AGG_HOST, 0, 0, "10.0.0.1");
        ASSERT_TRUE(e && e->bytes[NACCT_DIR_OUT] == 340);
        e = agg_find(a, NACCT_AGG_HOST, 0, 0, "10.0.0.1");
        e = agg_find(a, NACCT_AGG_USER, 0, 0, NULL);
        ASSERT_TRUE(e && e->bytes[NACCT_DIR_OUT] == 340 && e->bytes[NACCT_DIR_IN] == 0);
        /* The map holds its own references. */
        ASSERT_EQ_INT(nacct_names_refs(users, alice), 2);
        nacct_agg_clear(a);
        ASSERT_EQ_INT(a->n, 0);
        ASSERT_EQ_INT(nacct_names_refs(users, alice), 1);

        /* Service ports. */
        f.key.sport = 443;
        f.key.dport = 50000;
        ASSERT_TRUE(nacct_service_port(&f.key, &port, &dir) && port == 443 && dir == NACCT_DIR_OUT);
        f.key.sport = 0;
        f.key.dport = 0;
        ASSERT_TRUE(!nacct_service_port(&f.key, &port, &dir));
        f.key.proto = 1;
        f.key.sport = 8;
        ASSERT_TRUE(!nacct_service_port(&f.key, &port, &dir));

        /* A full map counts what it had to drop. */
        nacct_agg_free(a);
        ASSERT_EQ_INT(nacct_agg_new(devs, users, 2, &a), 0);
        f.key = key(2);
        f.key.dev = (uint16_t)dev;
        f.db_packets[0] = 5;
        f.db_bytes[0] = 500;
        nacct_agg_fold_flow(a, &f);
        ASSERT_EQ_INT(a->n, 2);
        ASSERT_TRUE(a->dropped > 0);
        nacct_agg_free(a);
        nacct_names_unref(users, alice);
        nacct_names_unref(devs, dev);
        ASSERT_EQ_INT(nacct_names_count(users), 0);
        ASSERT_EQ_INT(nacct_names_count(devs), 0);
        nacct_names_free(devs);
        nacct_names_free(users);
}

int main(void)
{
        test_siphash();
        test_table();
        test_names();
        test_agg();
        return test_result();
}
