/* trackle-client.c - connect to trackled and exchange JSON frames (lib/trackle-wire.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "trackle-wire.h"

#include "trackle-client.h"

#define TRACKLE_CLIENT_JSON_DEPTH 64

int trackle_client_new_fd(int fd, TrackleClient **ret)
{
        TrackleClient *c;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = fd;
        *ret = c;
        return 0;
}

static int set_timeout(int fd, unsigned seconds)
{
        struct timeval tv = {.tv_sec = seconds};

        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return negative_errno();
        return 0;
}

int trackle_client_set_timeout(TrackleClient *c, unsigned seconds)
{
        return set_timeout(c->fd, seconds);
}

int trackle_client_connect(const char *path, TrackleClient **ret)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct ucred cred;
        socklen_t sl = sizeof(cred);
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        r = set_timeout(fd, TRACKLE_CLIENT_TIMEOUT_SEC);
        if (r < 0)
                return r;
        /* SO_SNDTIMEO bounds the connect too, when the backlog is full and nobody accepts. */
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        /* The environment goes to this socket: only trackled (root) or ourselves may own it. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) < 0)
                return negative_errno();
        if (cred.uid != 0 && cred.uid != geteuid())
                return -EPERM;
        r = trackle_client_new_fd(fd, ret);
        if (r < 0)
                return r;
        TAKE_FD(fd);
        return 0;
}

TrackleClient *trackle_client_free(TrackleClient *c)
{
        if (!c)
                return NULL;
        safe_close(c->fd);
        free(c->error);
        free(c);
        return NULL;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

int trackle_client_send(int fd, const char *json, size_t len, int pass_fd)
{
        uint8_t header[TRACKLE_WIRE_HEADER_SIZE];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov[2] = {
                {.iov_base = header, .iov_len = sizeof(header)},
                {.iov_base = (void *)json, .iov_len = len},
        };
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        size_t total = sizeof(header) + len, sent;
        ssize_t k;
        int r;

        if (len > TRACKLE_WIRE_JSON_REQUEST_MAX)
                return -EMSGSIZE;
        r = trackle_wire_json_header(header, sizeof(header), len);
        if (r < 0)
                return r;
        if (pass_fd >= 0) {
                struct cmsghdr *cm;

                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
        }
        do
                k = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
        sent = (size_t)k;
        if (sent < sizeof(header)) {
                r = send_all(fd, header + sent, sizeof(header) - sent);
                if (r < 0)
                        return r;
                sent = sizeof(header);
        }
        return send_all(fd, (const uint8_t *)json + (sent - sizeof(header)), total - sent);
}

static int recv_all(int fd, void *buf, size_t n)
{
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = recv(fd, p, n, 0);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
                }
                if (k == 0)
                        return -ECONNRESET;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

int trackle_client_recv(int fd, size_t max, char **ret_text, size_t *ret_len)
{
        uint8_t header[TRACKLE_WIRE_HEADER_SIZE];
        _cleanup_free_ char *text = NULL;
        TrackleHeader h;
        int r;

        r = recv_all(fd, header, sizeof(header));
        if (r < 0)
                return r;
        r = trackle_wire_parse_header(header, sizeof(header), &h);
        if (r < 0)
                return r;
        if (h.type != TRACKLE_FRAME_JSON)
                return -EBADMSG;
        if (h.length > max)
                return -EMSGSIZE;
        text = malloc((size_t)h.length + 1);
        if (!text)
                return -ENOMEM;
        r = recv_all(fd, text, h.length);
        if (r < 0)
                return r;
        text[h.length] = 0;
        *ret_len = h.length;
        *ret_text = TAKE_PTR(text);
        return 0;
}

int trackle_client_parse_reply(const char *text, size_t len, json_object **ret)
{
        json_tokener *tok;
        json_object *o;

        if (len > INT32_MAX || memchr(text, 0, len))
                return -EBADMSG;
        tok = json_tokener_new_ex(TRACKLE_CLIENT_JSON_DEPTH);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int)len);
        if (o && json_tokener_get_error(tok) == json_tokener_success &&
            json_tokener_get_parse_end(tok) != len) {
                /* Only white space may follow the object. */
                for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                        if (!strchr(" \t\r\n", text[i])) {
                                json_object_put(o);
                                o = NULL;
                                break;
                        }
        }
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                json_tokener_free(tok);
                json_object_put(o);
                return -EBADMSG;
        }
        json_tokener_free(tok);
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int trackle_client_call(TrackleClient *c, json_object *request, int pass_fd, json_object **ret)
{
        _cleanup_free_ char *text = NULL;
        json_object *reply = NULL, *ok, *v;
        const char *req;
        size_t len;
        int r;

        free(c->error);
        c->error = NULL;
        c->error_errno = 0;
        req = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN);
        if (!req)
                return -ENOMEM;
        r = trackle_client_send(c->fd, req, strlen(req), pass_fd);
        if (r < 0)
                return r;
        r = trackle_client_recv(c->fd, TRACKLE_WIRE_JSON_REPLY_MAX, &text, &len);
        if (r < 0)
                return r;
        r = trackle_client_parse_reply(text, len, &reply);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(reply, "ok", &ok) ||
            !json_object_is_type(ok, json_type_boolean)) {
                json_object_put(reply);
                return -EBADMSG;
        }
        if (!json_object_get_boolean(ok)) {
                const char *msg = "request failed";

                if (json_object_object_get_ex(reply, "error", &v) &&
                    json_object_is_type(v, json_type_string))
                        msg = json_object_get_string(v);
                c->error = strdup(msg);
                if (json_object_object_get_ex(reply, "errno", &v) &&
                    json_object_is_type(v, json_type_int))
                        c->error_errno = (int)json_object_get_int64(v);
                json_object_put(reply);
                return c->error ? -EREMOTEIO : -ENOMEM;
        }
        *ret = reply;
        return 0;
}

json_object *trackle_request_new(const char *op)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (json_object_object_add(o, "op", json_object_new_string(op)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}
