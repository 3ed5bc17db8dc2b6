/* trackalert-geoip.c - named GeoIP2 databases; lookups under a read lock so that
 * reloadGeoIPDBs() can swap a database while requests run. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#include "log.h"
#include "macro.h"
#include "trackalert-geoip.h"

#define GEOIP_DBS_MAX 32

struct TaGeoDB {
        char *name, *file;
        MMDB_s mmdb;
        bool open;
        pthread_rwlock_t lock;
};

struct TaGeoIP {
        TaGeoDB dbs[GEOIP_DBS_MAX];
        size_t n; /* atomic: entries are only ever added */
        pthread_mutex_t lock;
};

int ta_geoip_new(TaGeoIP **ret)
{
        TaGeoIP *g = calloc(1, sizeof(*g));

        if (!g)
                return -ENOMEM;
        pthread_mutex_init(&g->lock, NULL);
        *ret = g;
        return 0;
}

TaGeoIP *ta_geoip_free(TaGeoIP *g)
{
        if (!g)
                return NULL;
        for (size_t i = 0; i < g->n; i++) {
                if (g->dbs[i].open)
                        MMDB_close(&g->dbs[i].mmdb);
                free(g->dbs[i].name);
                free(g->dbs[i].file);
                pthread_rwlock_destroy(&g->dbs[i].lock);
        }
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
}

static int mmdb_open(const char *file, MMDB_s *ret, char **ret_error)
{
        int status = MMDB_open(file, MMDB_MODE_MMAP, ret);

        if (status == MMDB_SUCCESS)
                return 0;
        if (ret_error && asprintf(ret_error, "cannot open GeoIP2 database '%s': %s%s%s", file,
                                  MMDB_strerror(status),
                                  status == MMDB_IO_ERROR ? ": " : "",
                                  status == MMDB_IO_ERROR ? strerror(errno) : "") < 0)
                *ret_error = NULL;
        return status == MMDB_IO_ERROR ? -ENOENT : -EINVAL;
}

TaGeoDB *ta_geoip_get(TaGeoIP *g, const char *name)
{
        size_t n = __atomic_load_n(&g->n, __ATOMIC_ACQUIRE);

        for (size_t i = 0; i < n; i++)
                if (streq(g->dbs[i].name, name))
                        return &g->dbs[i];
        return NULL;
}

int ta_geoip_open(TaGeoIP *g, const char *name, const char *file, char **ret_error)
{
        TaGeoDB *db;
        MMDB_s m;
        int r;

        r = mmdb_open(file, &m, ret_error);
        if (r < 0)
                return r;
        pthread_mutex_lock(&g->lock);
        db = ta_geoip_get(g, name);
        if (db) {
                /* Same name again: replace the database. */
                pthread_rwlock_wrlock(&db->lock);
                if (db->open)
                        MMDB_close(&db->mmdb);
                db->mmdb = m;
                db->open = true;
                free(db->file);
                db->file = strdup(file);
                pthread_rwlock_unlock(&db->lock);
        } else if (g->n >= GEOIP_DBS_MAX) {
                MMDB_close(&m);
                r = -E2BIG;
                if (ret_error)
                        *ret_error = strdup("too many GeoIP2 databases");
        } else {
                db = &g->dbs[g->n];
                *db = (TaGeoDB){.name = strdup(name), .file = strdup(file), .mmdb = m,
                                .open = true};
                pthread_rwlock_init(&db->lock, NULL);
                __atomic_store_n(&g->n, g->n + 1, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&g->lock);
        return r;
}

int ta_geoip_reload(TaGeoIP *g, TaBuf *out)
{
        int ret = 0;

        pthread_mutex_lock(&g->lock);
        for (size_t i = 0; i < g->n; i++) {
                TaGeoDB *db = &g->dbs[i];
                _cleanup_free_ char *err = NULL;
                MMDB_s m;
                int r = mmdb_open(db->file, &m, &err);

                if (r < 0) {
                        log_error("reloadGeoIPDBs: %s, keeping the old one.", strempty(err));
                        ta_buf_printf(out, "%s: %s\n", db->name, strempty(err));
                        ret = r;
                        continue;
                }
                pthread_rwlock_wrlock(&db->lock);
                if (db->open)
                        MMDB_close(&db->mmdb);
                db->mmdb = m;
                db->open = true;
                pthread_rwlock_unlock(&db->lock);
                log_info("Reloaded GeoIP2 database '%s' from '%s'.", db->name, db->file);
        }
        pthread_mutex_unlock(&g->lock);
        return ret;
}

static int lookup(TaGeoDB *db, const TaAddr *a, MMDB_lookup_result_s *ret)
{
        struct sockaddr_in in = {.sin_family = AF_INET};
        struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
        const struct sockaddr *sa;
        int mmdb_error = 0;

        if (!db->open)
                return -ENOENT;
        if (a->family == AF_INET) {
                memcpy(&in.sin_addr, a->bytes, 4);
                sa = (const struct sockaddr *)&in;
        } else {
                memcpy(&in6.sin6_addr, a->bytes, 16);
                sa = (const struct sockaddr *)&in6;
        }
        *ret = MMDB_lookup_sockaddr(&db->mmdb, sa, &mmdb_error);
        if (mmdb_error != MMDB_SUCCESS)
                return -EINVAL;
        return ret->found_entry ? 0 : -ENOENT;
}

static int get_string(MMDB_lookup_result_s *res, char *buf, size_t size, const char *const *path)
{
        MMDB_entry_data_s d;

        if (MMDB_aget_value(&res->entry, &d, path) != MMDB_SUCCESS || !d.has_data ||
            d.type != MMDB_DATA_TYPE_UTF8_STRING)
                return -ENOENT;
        snprintf(buf, size, "%.*s", (int)d.data_size, d.utf8_string);
        return 0;
}

static int get_double(MMDB_lookup_result_s *res, double *ret, const char *const *path)
{
        MMDB_entry_data_s d;

        if (MMDB_aget_value(&res->entry, &d, path) != MMDB_SUCCESS || !d.has_data)
                return -ENOENT;
        if (d.type == MMDB_DATA_TYPE_DOUBLE)
                *ret = d.double_value;
        else if (d.type == MMDB_DATA_TYPE_FLOAT)
                *ret = d.float_value;
        else
                return -ENOENT;
        return 0;
}

int ta_geodb_country(TaGeoDB *db, const TaAddr *a, char *buf, size_t size)
{
        static const char *const path[] = {"country", "iso_code", NULL};
        MMDB_lookup_result_s res;
        int r;

        buf[0] = '\0';
        pthread_rwlock_rdlock(&db->lock);
        r = lookup(db, a, &res);
        if (r >= 0)
                r = get_string(&res, buf, size, path);
        pthread_rwlock_unlock(&db->lock);
        return r;
}

int ta_geodb_isp(TaGeoDB *db, const TaAddr *a, char *buf, size_t size)
{
        static const char *const path[] = {"isp", NULL};
        MMDB_lookup_result_s res;
        int r;

        buf[0] = '\0';
        pthread_rwlock_rdlock(&db->lock);
        r = lookup(db, a, &res);
        if (r >= 0)
                r = get_string(&res, buf, size, path);
        pthread_rwlock_unlock(&db->lock);
        return r;
}

int ta_geodb_city(TaGeoDB *db, const TaAddr *a, TaGeoCity *ret)
{
        static const char *const cc[] = {"country", "iso_code", NULL};
        static const char *const cn[] = {"country", "names", "en", NULL};
        static const char *const region[] = {"subdivisions", "0", "iso_code", NULL};
        static const char *const city0[] = {"cities", "0", NULL};
        static const char *const city[] = {"city", "names", "en", NULL};
        static const char *const postal[] = {"postal", "code", NULL};
        static const char *const continent[] = {"continent", "code", NULL};
        static const char *const lat[] = {"location", "latitude", NULL};
        static const char *const lon[] = {"location", "longitude", NULL};
        MMDB_lookup_result_s res;
        int r;

        *ret = (TaGeoCity){};
        pthread_rwlock_rdlock(&db->lock);
        r = lookup(db, a, &res);
        if (r >= 0) {
                (void)get_string(&res, ret->country_code, sizeof(ret->country_code), cc);
                (void)get_string(&res, ret->country_name, sizeof(ret->country_name), cn);
                (void)get_string(&res, ret->region, sizeof(ret->region), region);
                if (get_string(&res, ret->city, sizeof(ret->city), city0) < 0)
                        (void)get_string(&res, ret->city, sizeof(ret->city), city);
                (void)get_string(&res, ret->postal_code, sizeof(ret->postal_code), postal);
                (void)get_string(&res, ret->continent_code, sizeof(ret->continent_code),
                                 continent);
                /* The original stores the coordinates as float. */
                if (get_double(&res, &ret->latitude, lat) >= 0)
                        ret->latitude = (float)ret->latitude;
                if (get_double(&res, &ret->longitude, lon) >= 0)
                        ret->longitude = (float)ret->longitude;
        }
        pthread_rwlock_unlock(&db->lock);
        return r;
}

int ta_geodb_value(TaGeoDB *db, const TaAddr *a, const char *const *path, TaGeoValue type,
                   char *sbuf, size_t ssize, uint64_t *ret_uint, bool *ret_bool,
                   double *ret_double)
{
        MMDB_lookup_result_s res;
        MMDB_entry_data_s d;
        int r;

        pthread_rwlock_rdlock(&db->lock);
        r = lookup(db, a, &res);
        if (r >= 0 && (MMDB_aget_value(&res.entry, &d, path) != MMDB_SUCCESS || !d.has_data))
                r = -ENOENT;
        if (r >= 0)
                switch (type) {
                case TA_GEO_STRING:
                        if (d.type == MMDB_DATA_TYPE_UTF8_STRING)
                                snprintf(sbuf, ssize, "%.*s", (int)d.data_size, d.utf8_string);
                        break;
                case TA_GEO_UINT:
                        *ret_uint = d.type == MMDB_DATA_TYPE_UINT16   ? d.uint16
                                    : d.type == MMDB_DATA_TYPE_UINT32 ? d.uint32
                                    : d.type == MMDB_DATA_TYPE_UINT64 ? d.uint64
                                                                      : 0;
                        break;
                case TA_GEO_BOOL:
                        *ret_bool = d.type == MMDB_DATA_TYPE_BOOLEAN && d.boolean;
                        break;
                case TA_GEO_DOUBLE:
                        *ret_double = d.type == MMDB_DATA_TYPE_DOUBLE  ? d.double_value
                                      : d.type == MMDB_DATA_TYPE_FLOAT ? d.float_value
                                                                       : 0;
                        break;
                }
        pthread_rwlock_unlock(&db->lock);
        return r;
}
