/* trackalert-webhook.h - custom webhooks: definitions, a bounded queue and libcurl workers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trackalert-runtime.h"
#include "trackalert-tuple.h"

#define TA_WEBHOOKS_MAX 256
#define TA_WEBHOOK_SIG_LEN 64 /* base64 of 32 bytes plus NUL fits in 45 */

typedef struct TaWebhooks TaWebhooks;

int ta_webhooks_new(TaWebhooks **ret);
TaWebhooks *ta_webhooks_free(TaWebhooks *w); /* stops the workers; queued items are dropped */
/* addCustomWebHook(name, {url=..., secret=..., ...}): returns the id (>= 1). */
int ta_webhooks_add(TaWebhooks *w, const char *name, const TaKvList *opts, const char **ret_error);
int ta_webhooks_start(TaWebhooks *w, const TaConfig *config);
/* Queue a POST of data to the named hook; -ENOENT unknown hook, -EAGAIN queue full. */
int ta_webhooks_run(TaWebhooks *w, const char *name, const char *data, size_t len);
size_t ta_webhooks_queue_size(TaWebhooks *w);
void ta_webhooks_show(TaWebhooks *w, TaBuf *b);
void ta_webhooks_prometheus(TaWebhooks *w, TaBuf *b);

/* base64(HMAC-SHA256(secret, body)) */
void ta_webhook_signature(const char *secret, const void *body, size_t len,
                          char ret[static TA_WEBHOOK_SIG_LEN]);
/* base64(SHA256(time string + id + event)) */
void ta_webhook_delivery(const char *timestr, unsigned id, const char *event,
                         char ret[static TA_WEBHOOK_SIG_LEN]);
/* Expand %{YYYY}, %{MM}, %{dd} in UTC. Returns a malloc'd string. */
char *ta_webhook_expand_url(const char *url, int64_t now);
