/* trackalert-geoip.h - GeoIP2 databases (libmaxminddb), named, shared by every Lua state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "trackalert-addr.h"
#include "trackalert-tuple.h"

typedef struct TaGeoDB TaGeoDB;
typedef struct TaGeoIP TaGeoIP;

typedef struct TaGeoCity {
        char country_code[8], country_name[128], region[16], city[128], postal_code[32];
        char continent_code[8];
        double latitude, longitude;
} TaGeoCity;

int ta_geoip_new(TaGeoIP **ret);
TaGeoIP *ta_geoip_free(TaGeoIP *g);
/* newGeoIP2DB(name, file): -errno with a message on failure. */
int ta_geoip_open(TaGeoIP *g, const char *name, const char *file, char **ret_error);
TaGeoDB *ta_geoip_get(TaGeoIP *g, const char *name);
/* Reopen every database from its file; messages go to out. */
int ta_geoip_reload(TaGeoIP *g, TaBuf *out);

/* A miss gives "", 0 or false, as in the original. */
int ta_geodb_country(TaGeoDB *db, const TaAddr *a, char *buf, size_t size);
int ta_geodb_isp(TaGeoDB *db, const TaAddr *a, char *buf, size_t size);
int ta_geodb_city(TaGeoDB *db, const TaAddr *a, TaGeoCity *ret);
typedef enum TaGeoValue { TA_GEO_STRING, TA_GEO_UINT, TA_GEO_BOOL, TA_GEO_DOUBLE } TaGeoValue;
/* path: NULL-terminated list of keys (array indexes as decimal strings). */
int ta_geodb_value(TaGeoDB *db, const TaAddr *a, const char *const *path, TaGeoValue type,
                   char *sbuf, size_t ssize, uint64_t *ret_uint, bool *ret_bool,
                   double *ret_double);
