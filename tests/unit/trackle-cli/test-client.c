/* test-client.c - JSON frames over a socket pair: requests, replies, errors, bad frames. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "trackle-client.h"
#include "trackle-wire.h"

/* The peer: read one request (and its fd), answer with reply (raw bytes). */
static void serve(int fd, const void *reply, size_t len, bool want_fd)
{
        char buf[4096];
        char control[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = buf, .iov_len = TRACKLE_WIRE_HEADER_SIZE};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control,
                            .msg_controllen = sizeof(control)};
        TrackleHeader h;
        ssize_t k;
        int status = 0;

        k = recvmsg(fd, &mh, MSG_WAITALL);
        if (k != TRACKLE_WIRE_HEADER_SIZE || trackle_wire_parse_header((uint8_t *)buf, 8, &h) < 0 ||
            h.type != TRACKLE_FRAME_JSON)
                _exit(10);
        if (want_fd) {
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                struct stat st;
                int passed;

                if (!cm || cm->cmsg_type != SCM_RIGHTS)
                        _exit(11);
                memcpy(&passed, CMSG_DATA(cm), sizeof(int));
                if (fstat(passed, &st) < 0 || !S_ISDIR(st.st_mode))
                        _exit(12);
        }
        if (h.length >= sizeof(buf) || recv(fd, buf, h.length, MSG_WAITALL) != (ssize_t)h.length)
                _exit(13);
        buf[h.length] = 0;
        if (!strstr(buf, "\"op\""))
                status = 14;
        if (write(fd, reply, len) != (ssize_t)len)
                _exit(15);
        _exit(status);
}

static int exchange(const void *reply, size_t len, int pass_fd, json_object **ret, char **ret_error)
{
        TrackleClient *c;
        json_object *req = trackle_request_new("ticket.list");
        int sv[2], r, status;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid = fork();
        if (pid == 0) {
                close(sv[0]);
                serve(sv[1], reply, len, pass_fd >= 0);
        }
        close(sv[1]);
        ASSERT_EQ_INT(trackle_client_new_fd(sv[0], &c), 0);
        r = trackle_client_call(c, req, pass_fd, ret);
        *ret_error = c->error ? strdup(c->error) : NULL;
        trackle_client_free(c);
        json_object_put(req);
        waitpid(pid, &status, 0);
        ASSERT_EQ_INT(WEXITSTATUS(status), 0);
        return r;
}

static size_t frame(uint8_t *buf, const char *json)
{
        size_t n = strlen(json);

        trackle_wire_json_header(buf, 8, n);
        memcpy(buf + 8, json, n);
        return n + 8;
}

int main(void)
{
        uint8_t buf[512];
        json_object *o = NULL;
        char *err = NULL;
        size_t n;
        int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

        n = frame(buf, "{\"ok\": true, \"tickets\": []}\n");
        ASSERT_EQ_INT(exchange(buf, n, rootfd, &o, &err), 0);
        ASSERT_TRUE(o && json_object_object_get_ex(o, "tickets", NULL));
        json_object_put(o);

        n = frame(buf, "{\"ok\": false, \"error\": \"ticket 9 not found\", \"errno\": 2}");
        ASSERT_EQ_INT(exchange(buf, n, -1, &o, &err), -EREMOTEIO);
        ASSERT_STREQ(err, "ticket 9 not found");
        free(err);

        n = frame(buf, "[1, 2]");
        ASSERT_EQ_INT(exchange(buf, n, -1, &o, &err), -EBADMSG);
        n = frame(buf, "{\"ok\": true} x");
        ASSERT_EQ_INT(exchange(buf, n, -1, &o, &err), -EBADMSG);
        n = frame(buf, "{\"tickets\": []}");
        ASSERT_EQ_INT(exchange(buf, n, -1, &o, &err), -EBADMSG);
        /* A frame cut short: the peer closes after half of it. */
        n = frame(buf, "{\"ok\": true}");
        ASSERT_EQ_INT(exchange(buf, n - 3, -1, &o, &err), -ECONNRESET);
        /* A binary frame type where JSON is expected. */
        n = frame(buf, "{\"ok\": true}");
        buf[4] = TRACKLE_FRAME_ACK;
        buf[5] = 0;
        ASSERT_TRUE(exchange(buf, n, -1, &o, &err) < 0);

        ASSERT_EQ_INT(trackle_client_parse_reply("{\"a\": [[[]]]}  \n", 16, &o), 0);
        json_object_put(o);
        {
                /* Nesting deeper than the limit is refused, not recursed into. */
                char deep[300];

                memset(deep, '[', 150);
                memset(deep + 150, ']', 150);
                ASSERT_EQ_INT(trackle_client_parse_reply(deep, 300, &o), -EBADMSG);
        }
        ASSERT_EQ_INT(trackle_client_connect("/nonexistent/trackle.sock", &(TrackleClient *){NULL}),
                      -ENOENT);
        close(rootfd);
        return test_result();
}
