/* trackled-web-internal.h - what the HTTP plumbing (trackled-web.c), the JSON API
 * (trackled-web-api.c) and the mail queue (trackled-mail.c) share; pages never include it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "trackled-web.h"

#define WEB_BODY_MAX (1024 * 1024)
#define WEB_FORM_FIELDS_MAX 256
#define WEB_CONNECTIONS_MAX 512
#define WEB_CONNECTIONS_PER_CLIENT 32
#define WEB_HEAD_TIMEOUT_SEC 10
#define WEB_KEEPALIVE_TIMEOUT_SEC 30
#define WEB_BODY_TIMEOUT_SEC 30
#define WEB_SESSION_COOKIE "trackle_session"
#define WEB_ANON_COOKIE "trackle_anon"

/* Rate limits (per fixed window). */
#define WEB_LOGIN_FAILS_PER_ACCOUNT 5 /* per 15 minutes */
#define WEB_LOGIN_FAILS_PER_CLIENT 20
#define WEB_LOGIN_WINDOW_SEC (15 * 60)
#define WEB_TICKETS_PER_CLIENT 10 /* anonymous tickets and subscriptions per hour */
#define WEB_MAILS_PER_ADDRESS 5   /* confirmation mails per address per hour */
#define WEB_ANON_WINDOW_SEC 3600
#define WEB_CONFIRM_LIFETIME_SEC (48 * 3600)

typedef struct TrackledWeb TrackledWeb;
typedef struct TrackledMail TrackledMail;

/* One form field or query argument, decoded. */
typedef struct WebArg {
        char *name, *value;
} WebArg;

/* Decodes an application/x-www-form-urlencoded text of len bytes in place (text[len] must be
 * writable: the last field is terminated there; '+' is a space, %XX a byte);
 * fields without '=' get the value "". -E2BIG past max fields, -EINVAL for a bad escape or a
 * NUL byte. */
int web_form_parse(char *text, size_t len, WebArg *args, size_t max, size_t *ret_n);

typedef enum WebRateKind {
        RATE_LOGIN_ACCOUNT,
        RATE_LOGIN_CLIENT,
        RATE_ANON_CLIENT,
        RATE_MAIL_ADDRESS,
        RATE_MAIL_CLIENT,
} WebRateKind;

/* Is another event of kind for key within limit per window? With add, count it. */
bool web_rate_check(TrackledWeb *w, WebRateKind kind, const char *key, unsigned limit,
                    unsigned window_sec, bool add);

/* The JSON API: answers every /api/ path. */
int web_api(TrackledWeb *w, const WebRequest *req, WebResponse *resp);
/* For the API's login: a new session for account; sets the cookie on resp; the CSRF token of
 * the new session in ret_csrf. */
int web_login_start(TrackledWeb *w, const WebRequest *req, WebResponse *resp, const char *user,
                    const char *password, char ret_csrf[65]);
TrackledMail *web_mail(TrackledWeb *w);
TrackledWeb *web_of(const WebRequest *req);
/* POST /subscribe (fields ticket, email) and GET|POST /confirm/TOKEN. */
int web_subscribe(TrackledWeb *w, const WebRequest *req, WebResponse *resp);
int web_confirm(TrackledWeb *w, const WebRequest *req, WebResponse *resp);

int trackled_web_new(sd_event *event, const TrackledConfig *config, TrackledStore *store,
                     TrackledMail *mail, const int *fds, size_t n_fds, TrackledWeb **ret);
TrackledWeb *trackled_web_free(TrackledWeb *w);
