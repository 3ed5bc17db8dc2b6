/* trackalert-runtime.h - the daemon's shared state: configuration collected from the Lua config
 * file, the ACL and password (changeable from the console), and the subsystems. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trackalert-addr.h"
#include "trackalert-stats.h"

#define TA_LISTENERS_MAX 16
#define TA_KEY_SIZE 32
#define TA_DEFAULT_HTTP "127.0.0.1:8085"
#define TA_DEFAULT_CONTROL_PORT 4004
#define TA_DEFAULT_CLIENT_TARGET "127.0.0.1:4005"

typedef struct TaListenerConf {
        char *addr;
        bool tls;
        char *cert, *key;
        char *priorities; /* GnuTLS priority string derived from the OpenSSL-style options */
        char *file;       /* where it was configured, for messages */
        unsigned line;
} TaListenerConf;

typedef struct TaConfig {
        TaListenerConf listeners[TA_LISTENERS_MAX];
        size_t n_listeners;
        bool metrics_no_password;
        char *control_addr; /* controlSocket(); NULL: no console listener */
        uint8_t key[TA_KEY_SIZE];
        bool key_set;

        unsigned num_lua_states;
        unsigned num_worker_threads;
        unsigned max_conns;
        unsigned num_sched_threads;
        unsigned num_webhook_threads;
        unsigned webhook_conns_per_thread;
        unsigned webhook_queue_size;
        unsigned webhook_timeout_sec;
        bool curl_no_peer_verify, curl_no_host_verify;
        char *curl_ca_bundle, *curl_client_cert, *curl_client_key;

        size_t lua_memory_limit;        /* bytes per Lua state */
        uint64_t lua_instruction_limit; /* per call into Lua */
        uint64_t lua_time_limit_usec;   /* wall clock per call into Lua; 0: none */

        bool history_enabled;
        char *history_path; /* NULL: $STATE_DIRECTORY/trackalert.db */
        uint64_t history_retention_sec;
        unsigned history_queue_size;
        char *history_geoip_db; /* GeoIP2 DB name used for the country column */
} TaConfig;

typedef struct TaPool TaPool;
typedef struct TaState TaState;
typedef struct TaWebhooks TaWebhooks;
typedef struct TaScheduler TaScheduler;
typedef struct TaHistory TaHistory;
typedef struct TaGeoIP TaGeoIP;
typedef struct TaUap TaUap;

typedef struct TaRuntime {
        TaConfig config;
        TaStats *stats;
        TaCounterSet *endpoints; /* custom endpoint names that have an HTTP route */

        /* Read on every request, changed from the console: under acl_lock. */
        pthread_rwlock_t acl_lock;
        TaNetmaskGroup acl;
        char *password;

        /* Every call into Lua holds lua_lock for reading; a reload swaps global and pool under
         * it for writing. */
        pthread_rwlock_t lua_lock;
        TaState *global; /* the configuration state, also runs console commands */
        TaPool *pool;
        TaWebhooks *webhooks;
        TaScheduler *sched;
        TaHistory *history;
        TaGeoIP *geoip;
        TaGeoIP *retired_geoip[8]; /* replaced by reloads, freed at exit (readers hold none) */
        size_t n_retired_geoip;
        /* -R: swapped on reload (SIGHUP) under uap_lock, used under its read lock */
        pthread_rwlock_t uap_lock;
        TaUap *uap;
        char *uap_path;

        char *config_path;        /* absolute */
        char *config_name;        /* how messages name it: --config-name, else as given */
        unsigned config_problems; /* bad values warned about and ignored while loading */
        bool client_mode;
        bool verbose;
        bool started;           /* the configuration has been read, the server runs */
        int shutdown_requested; /* atomic; shutdown() from Lua */
        int stopping;           /* atomic; set when the server stops: every Lua call ends at once */
        void (*on_shutdown)(void *userdata);
        void *shutdown_userdata;
} TaRuntime;

void ta_config_defaults(TaConfig *c);
void ta_config_done(TaConfig *c);

int ta_runtime_new(bool client_mode, TaRuntime **ret);
TaRuntime *ta_runtime_free(TaRuntime *rt);

/* Checks against the ACL and password, under the lock. */
bool ta_runtime_acl_allows(TaRuntime *rt, const TaAddr *peer);
/* As the original after loading the configuration: the private ranges are added to whatever
 * the configuration made of the ACL (setACL() cannot remove them; from the console it can). */
int ta_runtime_acl_imply_private(TaRuntime *rt);
bool ta_runtime_password_ok(TaRuntime *rt, const char *authorization);
/* Fill device_attrs from device_id with the -R rules, if any (under the reload lock). */
void ta_runtime_parse_device(TaRuntime *rt, const char *protocol, const char *device_id,
                             TaArena *arena, TaKvList *attrs);
void ta_runtime_request_shutdown(TaRuntime *rt);
/* From here on, Lua calls in progress and new ones fail at their next instruction hook, so that
 * every thread that runs Lua can be joined promptly. */
void ta_runtime_set_stopping(TaRuntime *rt);
bool ta_runtime_stopping(const TaRuntime *rt);

/* Text from the network for a log line or a journal field (issue 13 item 9: escaped at output):
 * invisible, control, bidi and separator characters, bytes that are not UTF-8 and then
 * backslashes as \xNN (lib/utf8's rule); with quoted, '"' too (\x22), for values written
 * between quotes in a message. A malloc'd copy; NULL only when out of memory. */
char *ta_log_text(const char *s, bool quoted);
