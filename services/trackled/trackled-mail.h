/* trackled-mail.h - trackle's outgoing mail (spec §6): a queue in trackle.db, drained from
 * trackled's event loop through lib/smtp; a relay outage delays mail and loses none. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "trackled-config.h"
#include "trackled-store.h"

#define MAIL_BATCH 20                /* messages per drain */
#define MAIL_RETRY_FIRST_SEC 15      /* then doubled per attempt ... */
#define MAIL_RETRY_MAX_SEC (60 * 60) /* ... up to an hour; never given up */
#define MAIL_STOP_WAIT_SEC 5         /* for a message being sent at stop */

typedef struct TrackledMail TrackledMail;

int trackled_mail_new(sd_event *event, const TrackledConfig *config, TrackledStore *store,
                      TrackledMail **ret);
TrackledMail *trackled_mail_free(TrackledMail *m);

/* Queue a text/plain message (subject one line; both UTF-8) to one address; sent soon after
 * the caller's transaction. */
int trackled_mail_queue(TrackledMail *m, const char *to, const char *subject, const char *body);
/* Try the queue now (the next event loop iteration). */
void trackled_mail_kick(TrackledMail *m);
