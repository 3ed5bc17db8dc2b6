/* trackle-client.h - the console tool's side of trackled's control socket: JSON frames. */
#pragma once

#include <json-c/json.h>

#include "macro.h"

typedef struct TrackleClient {
        int fd;
        char *error; /* the last {"ok": false} message from trackled, or NULL */
        int error_errno;
} TrackleClient;

/* How long a request may wait for trackled: a socket that nobody serves (trackled stopped or
 * stuck) must not hang the tool. session.end, which reads every changed file, waits longer. */
#define TRACKLE_CLIENT_TIMEOUT_SEC 15
#define TRACKLE_CLIENT_END_TIMEOUT_SEC 600

/* Connect to the Unix stream socket at path (TRACKLE_SOCKET in the tool). The server must run
 * as root or as our own effective uid. Sends and replies time out (-ETIMEDOUT) after
 * TRACKLE_CLIENT_TIMEOUT_SEC. */
int trackle_client_connect(const char *path, TrackleClient **ret);
/* Change the time limit of the following requests. */
int trackle_client_set_timeout(TrackleClient *c, unsigned seconds);
/* Wrap an already connected socket (tests: one end of a socketpair). Takes the fd. */
int trackle_client_new_fd(int fd, TrackleClient **ret);
TrackleClient *trackle_client_free(TrackleClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(TrackleClient *, trackle_client_free);

/* Send one request (with an fd through SCM_RIGHTS when pass_fd >= 0) and read one reply.
 * Returns 0 and the whole reply object for {"ok": true}; -EREMOTEIO for {"ok": false}, with
 * the message in c->error; -errno for a broken connection or a malformed reply. */
int trackle_client_call(TrackleClient *c, json_object *request, int pass_fd, json_object **ret);

/* Frame helpers, exposed for tests. */
int trackle_client_send(int fd, const char *json, size_t len, int pass_fd);
int trackle_client_recv(int fd, size_t max, char **ret_text, size_t *ret_len);
/* Parse a reply's text (depth-limited). -EBADMSG when it is not a JSON object. */
int trackle_client_parse_reply(const char *text, size_t len, json_object **ret);

/* A request object {"op": op}; add fields with json_object_object_add(). */
json_object *trackle_request_new(const char *op);
