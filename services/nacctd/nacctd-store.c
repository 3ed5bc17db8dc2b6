/* nacctd-store.c - the schema of nacct.db and the upserts of one flush. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "state.h"

#include "nacctd-net.h"
#include "nacctd-store.h"

#define COUNTERS                                                                                   \
        "  bytes_in INTEGER NOT NULL DEFAULT 0,"                                                   \
        "  packets_in INTEGER NOT NULL DEFAULT 0,"                                                 \
        "  bytes_out INTEGER NOT NULL DEFAULT 0,"                                                  \
        "  packets_out INTEGER NOT NULL DEFAULT 0,"

const char *const nacct_store_migrations[] = {
        /* 0 -> 1. bin: unix seconds of the start of the time bin (UTC-aligned). */
        "CREATE TABLE settings ("
        "  key TEXT PRIMARY KEY,"
        "  value TEXT NOT NULL"
        ") WITHOUT ROWID;"
        "CREATE TABLE totals ("
        "  bin INTEGER PRIMARY KEY,"
        "  bytes INTEGER NOT NULL,"
        "  packets INTEGER NOT NULL"
        ");"
        "CREATE TABLE hosts ("
        "  bin INTEGER NOT NULL,"
        "  host TEXT NOT NULL," /* in = received by the host, out = sent by it */
        COUNTERS "  PRIMARY KEY (bin, host)"
        ") WITHOUT ROWID;"
        "CREATE INDEX hosts_host ON hosts(host, bin);"
        "CREATE TABLE users ("
        "  bin INTEGER NOT NULL,"
        "  user TEXT NOT NULL," /* in = to the user's address, out = from it */
        COUNTERS "  PRIMARY KEY (bin, user)"
        ") WITHOUT ROWID;"
        "CREATE INDEX users_user ON users(user, bin);"
        "CREATE TABLE protocols ("
        "  bin INTEGER NOT NULL,"
        "  proto INTEGER NOT NULL," /* in = received on the interface, out = sent */
        COUNTERS "  PRIMARY KEY (bin, proto)"
        ") WITHOUT ROWID;"
        "CREATE TABLE ports ("
        "  bin INTEGER NOT NULL,"
        "  proto INTEGER NOT NULL,"
        "  port INTEGER NOT NULL," /* the lower port of a flow; in = towards it, out = from it */
        COUNTERS "  PRIMARY KEY (bin, proto, port)"
        ") WITHOUT ROWID;"
        "CREATE TABLE interfaces ("
        "  bin INTEGER NOT NULL,"
        "  interface TEXT NOT NULL," /* in = received on it, out = sent on it */
        COUNTERS "  PRIMARY KEY (bin, interface)"
        ") WITHOUT ROWID;",
};
const size_t nacct_store_n_migrations = ELEMENTSOF(nacct_store_migrations);

#define UPSERT_TAIL                                                                                \
        " DO UPDATE SET bytes_in = bytes_in + excluded.bytes_in,"                                  \
        " packets_in = packets_in + excluded.packets_in,"                                          \
        " bytes_out = bytes_out + excluded.bytes_out,"                                             \
        " packets_out = packets_out + excluded.packets_out"

enum {
        ST_TOTAL,
        ST_HOST,
        ST_USER,
        ST_PROTO,
        ST_PORT,
        ST_IFACE,
        ST_SETTING,
        _ST_MAX,
};

static const char *const statements[_ST_MAX] = {
        [ST_TOTAL] = "INSERT INTO totals (bin, bytes, packets) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT (bin) DO UPDATE SET bytes = bytes + excluded.bytes, "
                     "packets = packets + excluded.packets",
        [ST_HOST] = "INSERT INTO hosts (bin, host, bytes_in, packets_in, bytes_out, packets_out) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (bin, host)" UPSERT_TAIL,
        [ST_USER] = "INSERT INTO users (bin, user, bytes_in, packets_in, bytes_out, packets_out) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (bin, user)" UPSERT_TAIL,
        [ST_PROTO] =
                "INSERT INTO protocols (bin, proto, bytes_in, packets_in, bytes_out, "
                "packets_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (bin, proto)" UPSERT_TAIL,
        [ST_PORT] = "INSERT INTO ports (bin, proto, port, bytes_in, packets_in, bytes_out, "
                    "packets_out) VALUES (?1, ?7, ?2, ?3, ?4, ?5, ?6) "
                    "ON CONFLICT (bin, proto, port)" UPSERT_TAIL,
        [ST_IFACE] = "INSERT INTO interfaces (bin, interface, bytes_in, packets_in, bytes_out, "
                     "packets_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (bin, "
                     "interface)" UPSERT_TAIL,
        [ST_SETTING] = ("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
};

static const char *const expire_tables[] = {"totals",    "hosts", "users",
                                            "protocols", "ports", "interfaces"};

struct NacctStore {
        sqlite3 *db;
        sqlite3_stmt *st[_ST_MAX];
        sqlite3_stmt *expire[ELEMENTSOF(expire_tables)];
        uint64_t bin_sec_recorded;
};

NacctStore *nacct_store_free(NacctStore *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < _ST_MAX; i++)
                sqlite3_finalize(s->st[i]);
        for (size_t i = 0; i < ELEMENTSOF(expire_tables); i++)
                sqlite3_finalize(s->expire[i]);
        sqlite3_close_v2(s->db);
        free(s);
        return NULL;
}

sqlite3 *nacct_store_db(NacctStore *s)
{
        return s->db;
}

int nacct_store_open(const char *path, NacctStore **ret)
{
        _cleanup_(nacct_store_freep) NacctStore *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = state_open(path, false, nacct_store_migrations, nacct_store_n_migrations, &s->db);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _ST_MAX; i++) {
                r = state_prepare(s->db, statements[i], &s->st[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(expire_tables); i++) {
                char sql[96];

                snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE bin < ?1", expire_tables[i]);
                r = state_prepare(s->db, sql, &s->expire[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static void bind_counters(sqlite3_stmt *st, const NacctAggEntry *e)
{
        sqlite3_bind_int64(st, 3, (sqlite3_int64)e->bytes[0]);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)e->packets[0]);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)e->bytes[1]);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)e->packets[1]);
}

static int store_entry(NacctStore *s, const NacctAgg *a, const NacctAggEntry *e)
{
        const NacctAggKey *k = &e->key;
        char addr[NACCT_ADDR_STRLEN];
        const char *name;
        sqlite3_stmt *st;

        switch (k->kind) {
        case NACCT_AGG_TOTAL:
                st = s->st[ST_TOTAL];
                sqlite3_bind_int64(st, 1, k->bin);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)(e->bytes[0] + e->bytes[1]));
                sqlite3_bind_int64(st, 3, (sqlite3_int64)(e->packets[0] + e->packets[1]));
                return state_step_reset(st);
        case NACCT_AGG_HOST:
                st = s->st[ST_HOST];
                nacct_addr_format(k->family, k->addr, addr);
                sqlite3_bind_text(st, 2, addr, -1, SQLITE_TRANSIENT);
                break;
        case NACCT_AGG_USER:
        case NACCT_AGG_IFACE:
                st = s->st[k->kind == NACCT_AGG_USER ? ST_USER : ST_IFACE];
                name = nacct_names_get(k->kind == NACCT_AGG_USER ? a->users : a->devices, k->name);
                if (!name)
                        return 0;
                sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
                break;
        case NACCT_AGG_PROTO:
                st = s->st[ST_PROTO];
                sqlite3_bind_int(st, 2, k->proto);
                break;
        case NACCT_AGG_PORT:
                st = s->st[ST_PORT];
                sqlite3_bind_int(st, 2, k->port);
                sqlite3_bind_int(st, 7, k->proto);
                break;
        default:
                return 0;
        }
        sqlite3_bind_int64(st, 1, k->bin);
        bind_counters(st, e);
        return state_step_reset(st);
}

static int store_setting(NacctStore *s, const char *key, const char *value)
{
        sqlite3_stmt *st = s->st[ST_SETTING];

        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
        return state_step_reset(st);
}

int nacct_store_commit(NacctStore *s, const NacctAgg *a, uint64_t bin_sec)
{
        int r;

        if (a->n == 0 && s->bin_sec_recorded == bin_sec)
                return 0;
        r = state_exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        if (s->bin_sec_recorded != bin_sec) {
                char v[32];

                snprintf(v, sizeof(v), "%llu", (unsigned long long)bin_sec);
                r = store_setting(s, "bin_seconds", v);
                if (r < 0)
                        goto rollback;
        }
        for (size_t i = 0; i < a->n; i++) {
                r = store_entry(s, a, &a->entries[i]);
                if (r < 0)
                        goto rollback;
        }
        r = state_exec(s->db, "COMMIT");
        if (r < 0)
                goto rollback;
        s->bin_sec_recorded = bin_sec;
        return 0;
rollback:
        (void)state_exec(s->db, "ROLLBACK");
        return r;
}

int nacct_store_expire(NacctStore *s, int64_t cutoff, uint64_t *ret_deleted)
{
        uint64_t deleted = 0;
        int r;

        r = state_exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(expire_tables); i++) {
                sqlite3_bind_int64(s->expire[i], 1, cutoff);
                r = state_step_reset(s->expire[i]);
                if (r < 0) {
                        (void)state_exec(s->db, "ROLLBACK");
                        return r;
                }
                deleted += (uint64_t)sqlite3_changes64(s->db);
        }
        r = state_exec(s->db, "COMMIT");
        if (r < 0) {
                (void)state_exec(s->db, "ROLLBACK");
                return r;
        }
        if (ret_deleted)
                *ret_deleted = deleted;
        return 0;
}
