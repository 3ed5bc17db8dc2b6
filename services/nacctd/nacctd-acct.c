/* nacctd-acct.c - one frame in, one record updated (or a counter saying why not). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#include "nacctd-acct.h"
#include "nacctd-debug.h"
#include "nacctd-decode.h"
#include "nacctd-net.h"

int nacct_acct_new(const NacctConfig *c, NacctAcct **ret)
{
        _cleanup_(nacct_acct_freep) NacctAcct *a = NULL;
        int r;

        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        if ((r = nacct_names_new(NACCT_DEVICES_MAX, &a->devices)) < 0 ||
            (r = nacct_names_new(NACCT_USERS_MAX, &a->users)) < 0 ||
            (r = nacct_flow_table_new(c->max_flows, &a->table)) < 0 ||
            (r = nacct_users_new(a->users, &a->resolver)) < 0 ||
            (r = nacct_agg_new(a->devices, a->users, NACCT_AGG_MAX, &a->agg)) < 0)
                return r;
        r = nacct_acct_set_config(a, c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

NacctAcct *nacct_acct_free(NacctAcct *a)
{
        if (!a)
                return NULL;
        if (a->table)
                for (uint32_t i = 0; i < a->table->n; i++)
                        if (!a->table->flows[i].dead)
                                nacct_acct_flow_release(a, &a->table->flows[i]);
        nacct_agg_free(a->agg);
        nacct_users_free(a->resolver);
        nacct_flow_table_free(a->table);
        for (size_t i = 0; i < NACCT_DEVICES_MAX; i++)
                free(a->devinfo[i].tty);
        nacct_names_free(a->users);
        nacct_names_free(a->devices);
        free(a);
        return NULL;
}

static int devinfo_update(NacctAcct *a, uint16_t dev)
{
        const char *name = nacct_names_get(a->devices, dev);
        NacctDevInfo *d = &a->devinfo[dev];
        const char *tty;

        free(d->tty);
        d->tty = NULL;
        d->accounted = name && nacct_config_accounts_interface(a->config, name);
        tty = name ? nacct_config_line_for(a->config, name) : NULL;
        if (tty) {
                d->tty = strdup(tty);
                if (!d->tty)
                        return -ENOMEM;
        }
        return 0;
}

int nacct_acct_set_config(NacctAcct *a, const NacctConfig *c)
{
        int r = 0;

        a->config = c;
        memcpy(&a->ignoremask, c->ignoremask, 4);
        nacct_flow_table_set_max(a->table, c->max_flows);
        nacct_users_reset(a->resolver);
        for (uint32_t i = 0; i < NACCT_DEVICES_MAX; i++)
                if (nacct_names_get(a->devices, i))
                        r = devinfo_update(a, (uint16_t)i) < 0 ? -ENOMEM : r;
        /* Users are resolved again under the new rules, at each record's next packet. */
        for (uint32_t i = 0; i < a->table->n; i++)
                a->table->flows[i].user_resolved = false;
        return r;
}

int nacct_acct_device_ref(NacctAcct *a, const char *name, uint16_t *ret)
{
        uint32_t id;
        int r;

        r = nacct_names_ref(a->devices, name, &id);
        if (r < 0)
                return r;
        if (nacct_names_refs(a->devices, id) == 1) {
                r = devinfo_update(a, (uint16_t)id);
                if (r < 0) {
                        nacct_names_unref(a->devices, id);
                        return r;
                }
        }
        *ret = (uint16_t)id;
        return 0;
}

void nacct_acct_device_unref(NacctAcct *a, uint16_t dev)
{
        nacct_names_unref(a->devices, dev);
}

void nacct_acct_flow_release(NacctAcct *a, NacctFlow *f)
{
        nacct_names_unref(a->devices, f->key.dev);
        nacct_names_unref(a->users, f->user);
        f->user = NACCT_NAME_NONE;
        f->dead = true;
        a->last = 0;
}

static bool dynamic_candidate(const NacctConfig *c, uint8_t family, const uint8_t b[16])
{
        const NacctNet *net = family == NACCT_FAMILY_V4 ? &c->dynamicnet4 : &c->dynamicnet6;

        return nacct_net_contains(net, family, b) &&
               !nacct_nets_contain(c->exclude, c->n_exclude, family, b);
}

static void resolve_user(NacctAcct *a, NacctFlow *f, int64_t now)
{
        const NacctConfig *c = a->config;
        const NacctDevInfo *d = &a->devinfo[f->key.dev];
        uint32_t u = NACCT_NAME_NONE;

        nacct_names_unref(a->users, f->user);
        f->user = NACCT_NAME_NONE;
        f->user_resolved = true;
        if (d->tty) {
                /* `line` takes precedence, as in the original. */
                f->user = nacct_users_utmp(a->resolver, d->tty, now);
                f->user_side = NACCT_USER_SIDE_LINK;
                return;
        }
        if (!c->dynamicip)
                return;
        if (dynamic_candidate(c, f->key.family, f->key.src)) {
                u = nacct_users_dynamic(a->resolver, c->dynamicip, f->key.family, f->key.src, now);
                f->user_side = NACCT_USER_SIDE_SRC;
        }
        if (u == NACCT_NAME_NONE && dynamic_candidate(c, f->key.family, f->key.dst)) {
                u = nacct_users_dynamic(a->resolver, c->dynamicip, f->key.family, f->key.dst, now);
                f->user_side = NACCT_USER_SIDE_DST;
        }
        f->user = u;
}

static bool hostlimit_allows(const NacctConfig *c, const NacctPacket *pk)
{
        for (size_t i = 0; i < c->n_hostlimit; i++) {
                const NacctAddr *h = &c->hostlimit[i];

                if (h->family != pk->family)
                        continue;
                if (memcmp(h->b, pk->src, 16) == 0 || memcmp(h->b, pk->dst, 16) == 0)
                        return true;
        }
        return false;
}

static inline int64_t bin_of(int64_t ts, int64_t bin)
{
        int64_t m = ts % bin;

        return ts - (m < 0 ? m + bin : m);
}

void nacct_acct_packet(NacctAcct *a, uint16_t dev, int dlt, int64_t ts, const uint8_t *data,
                       uint32_t caplen, uint32_t wirelen, const uint8_t *dev_mac)
{
        const NacctConfig *c = a->config;
        NacctCounters *n = &a->counters;
        NacctDecodeResult dr;
        NacctPacket pk;
        NacctFlow *f;
        NacctKey k;
        int64_t bin;
        int dir;

        if (_unlikely_(!a->devinfo[dev].accounted)) {
                n->notdev++;
                return;
        }
        dr = nacct_decode(dlt, data, caplen, wirelen, &pk);
        if (_unlikely_(dr != NACCT_DECODE_OK)) {
                switch (dr) {
                case NACCT_DECODE_NOT_IP:
                        n->ignored++;
                        break;
                case NACCT_DECODE_TRUNCATED:
                        n->truncated++;
                        break;
                default:
                        n->malformed++;
                        break;
                }
                nacct_debug(NACCT_DEBUG_IGNORE, "%s packet of %u bytes on %s",
                            nacct_decode_result_to_string(dr), wirelen,
                            nacct_names_get(a->devices, dev));
                return;
        }
        if (c->n_hostlimit > 0 && !hostlimit_allows(c, &pk)) {
                n->hostlimit++;
                return;
        }
        if (pk.family == NACCT_FAMILY_V4) {
                uint32_t s, d;

                memcpy(&s, pk.src, 4);
                memcpy(&d, pk.dst, 4);
                if ((s & a->ignoremask) == (d & a->ignoremask)) {
                        n->local++;
                        return;
                }
        } else if (memcmp(pk.src, pk.dst, 16) == 0) {
                n->local++;
                return;
        }
        if (c->n_ignorenet > 0 &&
            (nacct_nets_contain(c->ignorenet, c->n_ignorenet, pk.family, pk.src) ||
             nacct_nets_contain(c->ignorenet, c->n_ignorenet, pk.family, pk.dst)) &&
            !nacct_nets_contain(c->dontignore, c->n_dontignore, pk.family, pk.src) &&
            !nacct_nets_contain(c->dontignore, c->n_dontignore, pk.family, pk.dst)) {
                n->netignored++;
                return;
        }
        if (pk.flags & NACCT_PKT_SHORT)
                n->shorts++;
        if (pk.flags & NACCT_PKT_FRAGMENT)
                n->fragments++;

        if (pk.flags & NACCT_PKT_DIR_KNOWN)
                dir = pk.direction;
        else if (pk.eth_src && dev_mac && memcmp(pk.eth_src, dev_mac, 6) == 0)
                dir = NACCT_DIR_OUT;
        else
                dir = NACCT_DIR_IN;

        memcpy(k.src, pk.src, 16);
        memcpy(k.dst, pk.dst, 16);
        k.sport = pk.sport;
        k.dport = pk.dport;
        k.dev = dev;
        k.proto = pk.proto;
        k.family = pk.family;

        /* Packets of one flow come in bursts: try the last record before hashing. */
        if (a->last && memcmp(&a->table->flows[a->last - 1].key, &k, sizeof(k)) == 0)
                f = &a->table->flows[a->last - 1];
        else {
                bool created;

                f = nacct_flow_get(a->table, &k, nacct_flow_hash(a->table, &k), &created);
                if (_unlikely_(!f)) {
                        n->table_full++;
                        a->full = true;
                        a->last = 0;
                        return;
                }
                if (created) {
                        nacct_names_ref_id(a->devices, dev);
                        f->user = NACCT_NAME_NONE;
                        f->bin = bin_of(ts, (int64_t)c->bin_sec);
                        n->flows++;
                }
                a->last = (uint32_t)(f - a->table->flows) + 1;
        }
        if (_unlikely_(!f->user_resolved))
                resolve_user(a, f, ts);

        bin = bin_of(ts, (int64_t)c->bin_sec);
        if (_unlikely_(bin != f->bin)) {
                nacct_agg_fold_flow(a->agg, f);
                f->bin = bin;
        }
        if (f->packets == 0)
                f->first = ts;
        f->packets++;
        f->bytes += pk.bytes;
        f->last = ts;
        f->db_packets[dir]++;
        f->db_bytes[dir] += pk.bytes;
        n->packets++;
        n->bytes += pk.bytes;
}
