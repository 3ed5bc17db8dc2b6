/* trackalert-webhook.c - custom webhooks: a bounded queue drained by libcurl worker threads,
 * with the original's headers and HMAC signature. Requests never wait for a webhook. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "log.h"
#include "macro.h"
#include "trackalert-ids.h"
#include "trackalert-webhook.h"

#define WEBHOOK_THREADS_MAX 64

typedef struct Hook {
        unsigned id;
        char *name, *url, *secret, *basic_auth, *api_key, *content_type;
        uint64_t successes, failures; /* atomic */
} Hook;

typedef struct Item {
        Hook *hook;
        char *data;
        size_t len;
} Item;

struct TaWebhooks {
        Hook hooks[TA_WEBHOOKS_MAX];
        size_t n; /* atomic: entries are only added */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        Item *queue;
        size_t size, head, n_queued;
        pthread_t threads[WEBHOOK_THREADS_MAX];
        unsigned n_threads;
        bool stop;
        TaConfig config; /* the curl settings, copied at start */
        RateLimit fail_log;
};

int ta_webhooks_new(TaWebhooks **ret)
{
        TaWebhooks *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        w->fail_log = (RateLimit){.interval_usec = 10ULL * 1000000ULL, .burst = 10};
        *ret = w;
        return 0;
}

static void hook_done(Hook *h)
{
        free(h->name);
        free(h->url);
        free(h->secret);
        free(h->basic_auth);
        free(h->api_key);
        free(h->content_type);
}

TaWebhooks *ta_webhooks_free(TaWebhooks *w)
{
        if (!w)
                return NULL;
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        for (unsigned i = 0; i < w->n_threads; i++)
                pthread_join(w->threads[i], NULL);
        for (size_t i = 0; i < w->n_queued; i++)
                free(w->queue[(w->head + i) % w->size].data);
        for (size_t i = 0; i < w->n; i++)
                hook_done(&w->hooks[i]);
        free(w->queue);
        free(w->config.curl_ca_bundle);
        free(w->config.curl_client_cert);
        free(w->config.curl_client_key);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        free(w);
        return NULL;
}

static Hook *find_hook(TaWebhooks *w, const char *name)
{
        size_t n = __atomic_load_n(&w->n, __ATOMIC_ACQUIRE);

        for (size_t i = 0; i < n; i++)
                if (streq(w->hooks[i].name, name))
                        return &w->hooks[i];
        return NULL;
}

static char *dup_opt(const TaKvList *opts, const char *key)
{
        const char *v = ta_kv_list_get(opts, key);
        return v ? strdup(v) : NULL;
}

int ta_webhooks_add(TaWebhooks *w, const char *name, const TaKvList *opts, const char **ret_error)
{
        const char *url = ta_kv_list_get(opts, "url");
        Hook *h;
        int r = 0;

        if (isempty(url)) {
                *ret_error = "the 'url' key is mandatory";
                return -EINVAL;
        }
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
                *ret_error = "only http and https URLs are allowed";
                return -EINVAL;
        }
        pthread_mutex_lock(&w->lock);
        if (find_hook(w, name)) {
                *ret_error = "a custom webhook of that name exists";
                r = -EEXIST;
        } else if (w->n >= TA_WEBHOOKS_MAX) {
                *ret_error = "too many custom webhooks";
                r = -E2BIG;
        } else {
                h = &w->hooks[w->n];
                *h = (Hook){
                        .id = (unsigned)w->n + 1,
                        .name = strdup(name),
                        .url = strdup(url),
                        .secret = dup_opt(opts, "secret"),
                        .basic_auth = dup_opt(opts, "basic-auth"),
                        .api_key = dup_opt(opts, "api-key"),
                        .content_type = dup_opt(opts, "content-type"),
                };
                if (!h->name || !h->url) {
                        hook_done(h);
                        *ret_error = "out of memory";
                        r = -ENOMEM;
                } else {
                        r = (int)h->id;
                        __atomic_store_n(&w->n, w->n + 1, __ATOMIC_RELEASE);
                }
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

void ta_webhook_signature(const char *secret, const void *body, size_t len,
                          char ret[static TA_WEBHOOK_SIG_LEN])
{
        uint8_t mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;

        crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
        crypto_auth_hmacsha256_update(&st, body, len);
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_bin2base64(ret, TA_WEBHOOK_SIG_LEN, mac, sizeof(mac),
                          sodium_base64_VARIANT_ORIGINAL);
}

void ta_webhook_delivery(const char *timestr, unsigned id, const char *event,
                         char ret[static TA_WEBHOOK_SIG_LEN])
{
        uint8_t hash[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_state st;
        char idbuf[16];

        snprintf(idbuf, sizeof(idbuf), "%u", id);
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, (const unsigned char *)timestr, strlen(timestr));
        crypto_hash_sha256_update(&st, (const unsigned char *)idbuf, strlen(idbuf));
        crypto_hash_sha256_update(&st, (const unsigned char *)event, strlen(event));
        crypto_hash_sha256_final(&st, hash);
        sodium_bin2base64(ret, TA_WEBHOOK_SIG_LEN, hash, sizeof(hash),
                          sodium_base64_VARIANT_ORIGINAL);
}

char *ta_webhook_expand_url(const char *url, int64_t now)
{
        time_t t = (time_t)now;
        struct tm tm;
        TaBuf b = {};

        if (!gmtime_r(&t, &tm))
                return strdup(url);
        for (const char *p = url; *p;) {
                if (strncmp(p, "%{YYYY}", 7) == 0) {
                        ta_buf_printf(&b, "%04d", tm.tm_year + 1900);
                        p += 7;
                } else if (strncmp(p, "%{MM}", 5) == 0) {
                        ta_buf_printf(&b, "%02d", tm.tm_mon + 1);
                        p += 5;
                } else if (strncmp(p, "%{dd}", 5) == 0) {
                        ta_buf_printf(&b, "%02d", tm.tm_mday);
                        p += 5;
                } else
                        ta_buf_add(&b, p++, 1);
        }
        if (b.oom) {
                ta_buf_done(&b);
                return NULL;
        }
        return b.data ? b.data : strdup("");
}

int ta_webhooks_run(TaWebhooks *w, const char *name, const char *data, size_t len)
{
        Hook *h = find_hook(w, name);
        char *copy;
        int r = 0;

        if (!h)
                return -ENOENT;
        copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, data, len);
        copy[len] = '\0';
        pthread_mutex_lock(&w->lock);
        if (!w->queue || w->n_queued >= w->size) {
                r = -EAGAIN;
                free(copy);
        } else {
                w->queue[(w->head + w->n_queued) % w->size] = (Item){h, copy, len};
                w->n_queued++;
                pthread_cond_signal(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

size_t ta_webhooks_queue_size(TaWebhooks *w)
{
        size_t n;

        pthread_mutex_lock(&w->lock);
        n = w->n_queued;
        pthread_mutex_unlock(&w->lock);
        return n;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        return size * nmemb;
}

static void deliver(TaWebhooks *w, CURL *curl, Item *it)
{
        Hook *h = it->hook;
        struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = NULL;
        char line[512], sig[TA_WEBHOOK_SIG_LEN], timestr[64];
        long status = 0;
        CURLcode rc;
        time_t now = time(NULL);
        struct tm tm;

        url = ta_webhook_expand_url(h->url, (int64_t)now);
        if (!url)
                return;
        /* boost's to_simple_string(): "2024-Jan-02 03:04:05" */
        if (gmtime_r(&now, &tm))
                strftime(timestr, sizeof(timestr), "%Y-%b-%d %H:%M:%S", &tm);
        else
                timestr[0] = '\0';

        snprintf(line, sizeof(line), "X-Wforce-Event: %s", h->name);
        headers = curl_slist_append(headers, line);
        snprintf(line, sizeof(line), "X-Wforce-HookID: %u", h->id);
        headers = curl_slist_append(headers, line);
        snprintf(line, sizeof(line), "Content-Type: %s", h->content_type ?: "application/json");
        headers = curl_slist_append(headers, line);
        if (h->secret) {
                ta_webhook_signature(h->secret, it->data, it->len, sig);
                snprintf(line, sizeof(line), "X-Wforce-Signature: %s", sig);
                headers = curl_slist_append(headers, line);
        }
        ta_webhook_delivery(timestr, h->id, h->name, sig);
        snprintf(line, sizeof(line), "X-Wforce-Delivery: %s", sig);
        headers = curl_slist_append(headers, line);
        if (h->api_key) {
                snprintf(line, sizeof(line), "X-API-Key: %s", h->api_key);
                headers = curl_slist_append(headers, line);
        }
        headers = curl_slist_append(headers, "Expect:");

        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, it->data);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->len);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)w->config.webhook_timeout_sec);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TCP_FASTOPEN, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        if (h->basic_auth) {
                curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
                curl_easy_setopt(curl, CURLOPT_USERPWD, h->basic_auth);
        }
        if (w->config.curl_no_peer_verify)
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        if (w->config.curl_no_host_verify)
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        if (w->config.curl_ca_bundle)
                curl_easy_setopt(curl, CURLOPT_CAINFO, w->config.curl_ca_bundle);
        if (w->config.curl_client_cert) {
                curl_easy_setopt(curl, CURLOPT_SSLCERT, w->config.curl_client_cert);
                curl_easy_setopt(curl, CURLOPT_SSLKEY, w->config.curl_client_key);
        }
        rc = curl_easy_perform(curl);
        if (rc == CURLE_OK)
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);

        if (rc == CURLE_OK && status >= 200 && status < 300) {
                __atomic_add_fetch(&h->successes, 1, __ATOMIC_RELAXED);
                return;
        }
        __atomic_add_fetch(&h->failures, 1, __ATOMIC_RELAXED);
        pthread_mutex_lock(&w->lock);
        if (ratelimit_below(&w->fail_log, ta_now_usec(), NULL)) {
                char id[16];
                const LogField fields[] = {
                        {"TRACKALERT_WEBHOOK", h->name},
                        {"TRACKALERT_WEBHOOK_ID", id},
                        {"TRACKALERT_WEBHOOK_URL", url},
                };
                snprintf(id, sizeof(id), "%u", h->id);
                if (rc != CURLE_OK)
                        log_fields(LOG_ERR, TRACKALERT_MID_WEBHOOK_FAILED, fields,
                                   ELEMENTSOF(fields), "Webhook id=%u failed to url (%s): [%s]",
                                   h->id, url, curl_easy_strerror(rc));
                else
                        log_fields(LOG_ERR, TRACKALERT_MID_WEBHOOK_FAILED, fields,
                                   ELEMENTSOF(fields),
                                   "Webhook id=%u failed to url (%s): [HTTP status %ld]", h->id,
                                   url, status);
        }
        pthread_mutex_unlock(&w->lock);
}

static void *worker(void *userdata)
{
        TaWebhooks *w = userdata;
        CURL *curl = curl_easy_init();

        if (!curl)
                return NULL;
        pthread_mutex_lock(&w->lock);
        for (;;) {
                Item it;

                while (w->n_queued == 0 && !w->stop)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (w->stop)
                        break;
                it = w->queue[w->head];
                w->head = (w->head + 1) % w->size;
                w->n_queued--;
                pthread_mutex_unlock(&w->lock);
                deliver(w, curl, &it);
                free(it.data);
                pthread_mutex_lock(&w->lock);
        }
        pthread_mutex_unlock(&w->lock);
        curl_easy_cleanup(curl);
        return NULL;
}

int ta_webhooks_start(TaWebhooks *w, const TaConfig *config)
{
        unsigned threads;
        int r;

        w->config.webhook_timeout_sec = MAX(config->webhook_timeout_sec, 1u);
        w->config.curl_no_peer_verify = config->curl_no_peer_verify;
        w->config.curl_no_host_verify = config->curl_no_host_verify;
        if ((config->curl_ca_bundle && !(w->config.curl_ca_bundle = strdup(config->curl_ca_bundle))) ||
            (config->curl_client_cert &&
             !(w->config.curl_client_cert = strdup(config->curl_client_cert))) ||
            (config->curl_client_key &&
             !(w->config.curl_client_key = strdup(config->curl_client_key))))
                return -ENOMEM;
        w->size = MAX(config->webhook_queue_size, 1u);
        w->queue = calloc(w->size, sizeof(Item));
        if (!w->queue)
                return -ENOMEM;
        if (w->n == 0)
                return 0; /* no hooks: no threads */
        threads = MIN(MAX(config->num_webhook_threads, 1u), (unsigned)WEBHOOK_THREADS_MAX);
        for (unsigned i = 0; i < threads; i++) {
                r = -pthread_create(&w->threads[i], NULL, worker, w);
                if (r < 0)
                        return r;
                w->n_threads++;
        }
        return 0;
}

void ta_webhooks_show(TaWebhooks *w, TaBuf *b)
{
        size_t n = __atomic_load_n(&w->n, __ATOMIC_ACQUIRE);

        ta_buf_printf(b, "%-10s%-21s%-10s%-10s%s\n", "ID", "Name", "Successes", "Failures", "URL");
        for (size_t i = 0; i < n; i++)
                ta_buf_printf(b, "%-10u%-21s%-11llu%-10llu%s\n", w->hooks[i].id,
                              w->hooks[i].name,
                              (unsigned long long)__atomic_load_n(&w->hooks[i].successes,
                                                                  __ATOMIC_RELAXED),
                              (unsigned long long)__atomic_load_n(&w->hooks[i].failures,
                                                                  __ATOMIC_RELAXED),
                              w->hooks[i].url);
}

void ta_webhooks_prometheus(TaWebhooks *w, TaBuf *b)
{
        size_t n = __atomic_load_n(&w->n, __ATOMIC_ACQUIRE);

        ta_buf_puts(b, "# HELP trackalert_custom_webhook_events_total Custom webhook deliveries\n"
                       "# TYPE trackalert_custom_webhook_events_total counter\n");
        for (size_t i = 0; i < n; i++)
                for (int ok = 1; ok >= 0; ok--) {
                        ta_buf_printf(b, "trackalert_custom_webhook_events_total{id=\"%u\",url=\"",
                                      w->hooks[i].id);
                        for (const char *p = w->hooks[i].url; *p; p++) {
                                if (*p == '"' || *p == '\\')
                                        ta_buf_add(b, "\\", 1);
                                ta_buf_add(b, p, 1);
                        }
                        ta_buf_printf(b, "\",status=\"%s\"} %llu\n", ok ? "ok" : "error",
                                      (unsigned long long)__atomic_load_n(
                                              ok ? &w->hooks[i].successes : &w->hooks[i].failures,
                                              __ATOMIC_RELAXED));
                }
        ta_buf_puts(b, "# HELP trackalert_webhook_events_total Event webhooks (unused in "
                       "trackalert)\n# TYPE trackalert_webhook_events_total counter\n");
}
