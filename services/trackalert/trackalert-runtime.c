/* trackalert-runtime.c - configuration defaults, the shared runtime, ACL and Basic auth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "macro.h"
#include "trackalert-runtime.h"
#include "utf8.h"
#include "trackalert-uap.h"

void ta_config_defaults(TaConfig *c)
{
        *c = (TaConfig){
                .num_lua_states = 6,
                .num_worker_threads = 4,
                .max_conns = 10000,
                .num_sched_threads = 4,
                .num_webhook_threads = 5,
                .webhook_conns_per_thread = 10,
                .webhook_queue_size = 50000,
                .webhook_timeout_sec = 2,
                .lua_memory_limit = 64 * 1024 * 1024,
                .lua_instruction_limit = 10 * 1000 * 1000,
                .lua_time_limit_usec = 1000 * 1000,
                .history_enabled = true,
                .history_retention_sec = 90ULL * 24 * 3600,
                .history_queue_size = 65536,
        };
}

void ta_config_done(TaConfig *c)
{
        for (size_t i = 0; i < c->n_listeners; i++) {
                free(c->listeners[i].addr);
                free(c->listeners[i].cert);
                free(c->listeners[i].key);
                free(c->listeners[i].priorities);
                free(c->listeners[i].file);
        }
        free(c->control_addr);
        free(c->curl_ca_bundle);
        free(c->curl_client_cert);
        free(c->curl_client_key);
        free(c->history_path);
        free(c->history_geoip_db);
        sodium_memzero(c->key, sizeof(c->key));
        *c = (TaConfig){};
}

int ta_runtime_new(bool client_mode, TaRuntime **ret)
{
        TaRuntime *rt = calloc(1, sizeof(*rt));

        if (!rt)
                return -ENOMEM;
        ta_config_defaults(&rt->config);
        rt->client_mode = client_mode;
        pthread_rwlock_init(&rt->acl_lock, NULL);
        pthread_rwlock_init(&rt->uap_lock, NULL);
        {
                pthread_rwlockattr_t a;

                /* a reload must not wait behind an endless stream of reports */
                pthread_rwlockattr_init(&a);
                pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
                pthread_rwlock_init(&rt->lua_lock, &a);
                pthread_rwlockattr_destroy(&a);
        }
        rt->stats = ta_stats_new();
        rt->endpoints = calloc(1, sizeof(*rt->endpoints));
        if (!rt->stats || !rt->endpoints || ta_netmask_group_add_private(&rt->acl) < 0) {
                ta_runtime_free(rt);
                return -ENOMEM;
        }
        *ret = rt;
        return 0;
}

TaRuntime *ta_runtime_free(TaRuntime *rt)
{
        if (!rt)
                return NULL;
        ta_config_done(&rt->config);
        ta_stats_free(rt->stats);
        free(rt->endpoints);
        ta_netmask_group_done(&rt->acl);
        free(rt->password);
        free(rt->config_path);
        free(rt->config_name);
        pthread_rwlock_destroy(&rt->acl_lock);
        pthread_rwlock_destroy(&rt->uap_lock);
        pthread_rwlock_destroy(&rt->lua_lock);
        ta_uap_free(rt->uap);
        free(rt->uap_path);
        free(rt);
        return NULL;
}

bool ta_runtime_acl_allows(TaRuntime *rt, const TaAddr *peer)
{
        bool ok;

        pthread_rwlock_rdlock(&rt->acl_lock);
        ok = ta_netmask_group_match(&rt->acl, peer);
        pthread_rwlock_unlock(&rt->acl_lock);
        return ok;
}

int ta_runtime_acl_imply_private(TaRuntime *rt)
{
        int r;

        pthread_rwlock_wrlock(&rt->acl_lock);
        r = ta_netmask_group_add_private(&rt->acl);
        pthread_rwlock_unlock(&rt->acl_lock);
        return r;
}

static bool secret_eq(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);

        return la == lb && sodium_memcmp(a, b, la) == 0;
}

/* "Basic b64(user:pass)". The original split the decoded text on ':' skipping empty tokens
 * and wanted exactly two; so the user name had to be non-empty and a password with ':' could
 * never match. We also accept everything after the first ':' as the password, which keeps
 * every credential that worked before working. An empty password locks the endpoints. */
bool ta_runtime_password_ok(TaRuntime *rt, const char *authorization)
{
        char decoded[1024];
        size_t len = 0;
        const char *b64, *colon;
        bool ok = false;

        if (!authorization || strncasecmp(authorization, "basic ", 6) != 0)
                return false;
        b64 = authorization + 6;
        if (sodium_base642bin((unsigned char *)decoded, sizeof(decoded) - 1, b64, strlen(b64), NULL,
                              &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
                return false;
        decoded[len] = '\0';
        if (memchr(decoded, '\0', len))
                return false;
        colon = strchr(decoded, ':');
        if (!colon || colon == decoded)
                return false;

        pthread_rwlock_rdlock(&rt->acl_lock);
        if (!isempty(rt->password)) {
                ok = secret_eq(colon + 1, rt->password);
                if (!ok) {
                        /* The legacy tokenisation: "user::pass" or "user:pass:" */
                        char *save = NULL, *tok[3] = {};
                        int n = 0;

                        for (char *p = strtok_r(decoded, ":", &save); p && n < 3;
                             p = strtok_r(NULL, ":", &save))
                                tok[n++] = p;
                        ok = n == 2 && secret_eq(tok[1], rt->password);
                }
        }
        pthread_rwlock_unlock(&rt->acl_lock);
        sodium_memzero(decoded, sizeof(decoded));
        return ok;
}

void ta_runtime_request_shutdown(TaRuntime *rt)
{
        __atomic_store_n(&rt->shutdown_requested, 1, __ATOMIC_RELEASE);
        if (rt->on_shutdown)
                rt->on_shutdown(rt->shutdown_userdata);
}

void ta_runtime_set_stopping(TaRuntime *rt)
{
        __atomic_store_n(&rt->stopping, 1, __ATOMIC_RELEASE);
}

bool ta_runtime_stopping(const TaRuntime *rt)
{
        return __atomic_load_n(&rt->stopping, __ATOMIC_ACQUIRE) != 0;
}

void ta_runtime_parse_device(TaRuntime *rt, const char *protocol, const char *device_id,
                             TaArena *arena, TaKvList *attrs)
{
        pthread_rwlock_rdlock(&rt->uap_lock);
        if (rt->uap)
                (void)ta_uap_parse(rt->uap, protocol, device_id, arena, attrs);
        pthread_rwlock_unlock(&rt->uap_lock);
}

char *ta_log_text(const char *s, bool quoted)
{
        _cleanup_free_ char *escaped = NULL;
        const char *t;
        size_t n = 0;
        char *ret, *o;

        if (!s)
                return strdup("");
        if (utf8_escape_invisible(s, &escaped) < 0)
                return NULL;
        t = escaped ?: s;
        if (!quoted || !strchr(t, '"'))
                return escaped ? TAKE_PTR(escaped) : strdup(t);
        for (const char *p = t; *p; p++)
                n += *p == '"' ? 4 : 1;
        ret = malloc(n + 1);
        if (!ret)
                return NULL;
        o = ret;
        for (const char *p = t; *p; p++)
                if (*p == '"')
                        o += sprintf(o, "\\x22");
                else
                        *o++ = *p;
        *o = '\0';
        return ret;
}
