/* test-trackle-wire.c - trackle control-socket frames: round trips, exact length checks,
 * refusals of malformed fields, argv truncation. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "trackle-wire.h"

static uint8_t buf[TRACKLE_WIRE_LIB_FRAME_MAX + TRACKLE_WIRE_HEADER_SIZE];

static const uint8_t *payload(int len, TrackleHeader *h)
{
        ASSERT_TRUE(len >= (int)TRACKLE_WIRE_HEADER_SIZE);
        ASSERT_EQ_INT(trackle_wire_parse_header(buf, TRACKLE_WIRE_HEADER_SIZE, h), 0);
        ASSERT_EQ_INT(h->length, len - (int)TRACKLE_WIRE_HEADER_SIZE);
        return buf + TRACKLE_WIRE_HEADER_SIZE;
}

static void test_hello(void)
{
        TrackleHello in = {.version = TRACKLE_WIRE_VERSION,
                           .flags = TRACKLE_HELLO_ROOTFD,
                           .hint = 42,
                           .pid = 1234},
                     out;
        TrackleHeader h;
        int len = trackle_wire_hello(buf, sizeof(buf), &in);
        const uint8_t *p = payload(len, &h);

        ASSERT_EQ_INT(h.type, TRACKLE_FRAME_HELLO);
        ASSERT_EQ_INT(trackle_wire_parse_hello(p, h.length, &out), 0);
        ASSERT_EQ_INT(out.hint, 42);
        ASSERT_EQ_INT(out.pid, 1234);
        ASSERT_EQ_INT(out.flags, TRACKLE_HELLO_ROOTFD);
        /* one byte short or long: refused */
        ASSERT_EQ_INT(trackle_wire_parse_hello(p, h.length - 1, &out), -EBADMSG);
        ASSERT_EQ_INT(trackle_wire_parse_hello(p, h.length + 1, &out), -EBADMSG);
        /* unknown flag */
        in.flags = 0x80;
        len = trackle_wire_hello(buf, sizeof(buf), &in);
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_hello(p, h.length, &out), -EBADMSG);
        /* too small a buffer */
        ASSERT_EQ_INT(trackle_wire_hello(buf, 10, &in), -ENOBUFS);
}

static void test_before(void)
{
        TrackleBefore b;
        TrackleHeader h;
        int len = trackle_wire_before(buf, sizeof(buf), TRACKLE_OP_TRUNCATE, TRACKLE_BEFORE_FD,
                                      "/etc/hosts");
        const uint8_t *p = payload(len, &h);
        char longpath[TRACKLE_WIRE_PATH_MAX + 2];

        ASSERT_EQ_INT(trackle_wire_parse_before(p, h.length, &b), 0);
        ASSERT_EQ_INT(b.op, TRACKLE_OP_TRUNCATE);
        ASSERT_EQ_INT(b.path.len, 10);
        ASSERT_TRUE(memcmp(b.path.data, "/etc/hosts", 10) == 0);
        ASSERT_EQ_INT(trackle_wire_parse_before(p, h.length - 1, &b), -EBADMSG);

        ASSERT_EQ_INT(trackle_wire_before(buf, sizeof(buf), TRACKLE_OP_WRITE, 0, "rel"), -EINVAL);
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = 0;
        ASSERT_EQ_INT(trackle_wire_before(buf, sizeof(buf), TRACKLE_OP_WRITE, 0, longpath),
                      -ENAMETOOLONG);

        /* an EVENT op in a BEFORE frame, a NUL inside the path, a relative path: refused */
        len = trackle_wire_before(buf, sizeof(buf), TRACKLE_OP_CREATED, 0, "/x");
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_before(p, h.length, &b), -EBADMSG);
        /* ASYNC: only with an fd, only for ops that leave the old inode alone */
        len = trackle_wire_before(buf, sizeof(buf), TRACKLE_OP_RENAME_DST,
                                  TRACKLE_BEFORE_FD | TRACKLE_BEFORE_ASYNC, "/x");
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_before(p, h.length, &b), 0);
        len = trackle_wire_before(buf, sizeof(buf), TRACKLE_OP_RENAME_DST, TRACKLE_BEFORE_ASYNC,
                                  "/x");
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_before(p, h.length, &b), -EBADMSG);
        len = trackle_wire_before(buf, sizeof(buf), TRACKLE_OP_TRUNCATE,
                                  TRACKLE_BEFORE_FD | TRACKLE_BEFORE_ASYNC, "/x");
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_before(p, h.length, &b), -EBADMSG);
        len = trackle_wire_before(buf, sizeof(buf), TRACKLE_OP_WRITE, 0, "/ab");
        p = payload(len, &h);
        buf[TRACKLE_WIRE_HEADER_SIZE + 8 + 2 + 1] = 0;
        ASSERT_EQ_INT(trackle_wire_parse_before(p, h.length, &b), -EBADMSG);
        buf[TRACKLE_WIRE_HEADER_SIZE + 8 + 2] = 'x';
        buf[TRACKLE_WIRE_HEADER_SIZE + 8 + 2 + 1] = 'a';
        ASSERT_EQ_INT(trackle_wire_parse_before(p, h.length, &b), -EBADMSG);
}

static void test_event(void)
{
        TrackleStat st = {.valid = 1, .mode = 0100644, .uid = 0, .gid = 0, .size = 99};
        TrackleEvent e;
        TrackleHeader h;
        int len = trackle_wire_event(buf, sizeof(buf), TRACKLE_OP_RENAMED, &st, "/a/x~", "/a/x");
        const uint8_t *p = payload(len, &h);

        ASSERT_EQ_INT(trackle_wire_parse_event(p, h.length, &e), 0);
        ASSERT_EQ_INT(e.before.size, 99);
        ASSERT_EQ_INT(e.path2.len, 4);
        /* RENAMED needs two paths, CHMOD only one */
        len = trackle_wire_event(buf, sizeof(buf), TRACKLE_OP_RENAMED, NULL, "/a", NULL);
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_event(p, h.length, &e), -EBADMSG);
        len = trackle_wire_event(buf, sizeof(buf), TRACKLE_OP_CHMOD, &st, "/a", "/b");
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_event(p, h.length, &e), -EBADMSG);
        /* a symlink target may be relative */
        len = trackle_wire_event(buf, sizeof(buf), TRACKLE_OP_SYMLINK, NULL, "/a/l", "../t");
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_event(p, h.length, &e), 0);
        ASSERT_EQ_INT(e.before.valid, 0);
}

static void test_exec(void)
{
        static char big[40000];
        char *argv[] = {"sed", "-i", "s/a/b/", "/etc/x", NULL};
        char *bigv[] = {"echo", big, NULL};
        TrackleExec e;
        TrackleHeader h;
        TrackleString s;
        size_t off = 0;
        int len = trackle_wire_exec(buf, sizeof(buf), 1000, 0, 77, 0, "/etc", "/usr/bin/sed", argv);
        const uint8_t *p = payload(len, &h);

        ASSERT_EQ_INT(trackle_wire_parse_exec(p, h.length, &e), 0);
        ASSERT_EQ_INT(e.argc, 4);
        ASSERT_EQ_INT(e.uid, 1000);
        ASSERT_EQ_INT(e.flags, 0);
        for (int i = 0; trackle_wire_exec_next(&e, &off, &s) > 0; i++) {
                ASSERT_EQ_INT(s.len, strlen(argv[i]));
                ASSERT_TRUE(memcmp(s.data, argv[i], s.len) == 0);
        }
        ASSERT_EQ_INT(off, e.argv_len);
        /* argc that promises more strings than there are */
        len = trackle_wire_exec(buf, sizeof(buf), 1000, 0, 77, 0, "/etc", "/usr/bin/sed", argv);
        p = payload(len, &h);
        {
                size_t argc_at = 16 + 2 + 4 + 2 + 12;
                uint16_t five = 5;

                memcpy(buf + TRACKLE_WIRE_HEADER_SIZE + argc_at, &five, 2);
                ASSERT_EQ_INT(trackle_wire_parse_exec(p, h.length, &e), -EBADMSG);
        }
        /* a huge argument is cut, flagged, and still a valid frame */
        memset(big, 'x', sizeof(big) - 1);
        len = trackle_wire_exec(buf, sizeof(buf), 0, 0, 1, 0, "/", "echo", bigv);
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_exec(p, h.length, &e), 0);
        ASSERT_EQ_INT(e.argc, 1);
        ASSERT_TRUE(e.flags & TRACKLE_EXEC_TRUNCATED);
        /* arguments that each fit but not all together: the whole frame stays within 32 KiB
         * (a forked child sends it on its parent's stream socket, where it must go in one
         * piece), cut after the last argument that fits */
        {
                static char part[10000], cwd[3001];
                char *partv[] = {"echo", part, part, part, NULL};

                memset(part, 'y', sizeof(part) - 1);
                memset(cwd, 'c', sizeof(cwd) - 1);
                cwd[0] = '/';
                len = trackle_wire_exec(buf, sizeof(buf), 0, 0, 1, TRACKLE_EXEC_FORKED, cwd, "echo",
                                        partv);
                ASSERT_TRUE(len > 0 && (size_t)len <= TRACKLE_WIRE_EXEC_FRAME_MAX);
                p = payload(len, &h);
                ASSERT_EQ_INT(trackle_wire_parse_exec(p, h.length, &e), 0);
                ASSERT_EQ_INT(e.argc, 3);
                ASSERT_EQ_INT(e.flags, TRACKLE_EXEC_FORKED | TRACKLE_EXEC_TRUNCATED);
        }
        /* an unknown flag is refused */
        len = trackle_wire_exec(buf, sizeof(buf), 1000, 0, 77, 0x8, "/etc", "/usr/bin/sed", argv);
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_exec(p, h.length, &e), -EBADMSG);
}

static void test_header_limits(void)
{
        TrackleHeader h;
        uint32_t len = TRACKLE_WIRE_LIB_FRAME_MAX + 1;
        uint16_t type = TRACKLE_FRAME_BEFORE, flags = 0;

        memcpy(buf, &len, 4);
        memcpy(buf + 4, &type, 2);
        memcpy(buf + 6, &flags, 2);
        ASSERT_EQ_INT(trackle_wire_parse_header(buf, TRACKLE_WIRE_HEADER_SIZE, &h), -EMSGSIZE);
        type = 77;
        memcpy(buf + 4, &type, 2);
        ASSERT_EQ_INT(trackle_wire_parse_header(buf, TRACKLE_WIRE_HEADER_SIZE, &h), -EBADMSG);
        type = TRACKLE_FRAME_JSON;
        flags = 1;
        len = 10;
        memcpy(buf, &len, 4);
        memcpy(buf + 4, &type, 2);
        memcpy(buf + 6, &flags, 2);
        ASSERT_EQ_INT(trackle_wire_parse_header(buf, TRACKLE_WIRE_HEADER_SIZE, &h), -EBADMSG);
        ASSERT_EQ_INT(trackle_wire_parse_header(buf, 7, &h), -EBADMSG);
        ASSERT_EQ_INT(trackle_wire_json_header(buf, sizeof(buf), 123), 8);
        ASSERT_EQ_INT(trackle_wire_parse_header(buf, TRACKLE_WIRE_HEADER_SIZE, &h), 0);
        ASSERT_EQ_INT(h.length, 123);
        ASSERT_EQ_INT(h.type, TRACKLE_FRAME_JSON);
}

static void test_ring(void)
{
        TrackleHeader h;
        const uint8_t *p;
        uint32_t v, bad[] = {0, 4095, 6000, TRACKLE_RING_DATA_MAX * 2, 3u << 12};
        int len;

        len = trackle_wire_ring(buf, sizeof(buf), 65536);
        p = payload(len, &h);
        ASSERT_EQ_INT(h.type, TRACKLE_FRAME_RING);
        ASSERT_EQ_INT(trackle_wire_parse_ring(p, h.length, &v), 0);
        ASSERT_EQ_INT(v, 65536);
        ASSERT_EQ_INT(trackle_wire_parse_ring(p, h.length - 1, &v), -EBADMSG);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                len = trackle_wire_ring(buf, sizeof(buf), bad[i]);
                p = payload(len, &h);
                ASSERT_EQ_INT(trackle_wire_parse_ring(p, h.length, &v), -EBADMSG);
        }
        /* flags must be zero */
        len = trackle_wire_ring(buf, sizeof(buf), 4096);
        buf[TRACKLE_WIRE_HEADER_SIZE + 4] = 1;
        p = payload(len, &h);
        ASSERT_EQ_INT(trackle_wire_parse_ring(p, h.length, &v), -EBADMSG);

        /* MARK: exactly one u64 */
        uint64_t m = 0;
        len = trackle_wire_mark(buf, sizeof(buf), 1234567890123ull);
        ASSERT_EQ_INT(len, (int)TRACKLE_WIRE_HEADER_SIZE + 8);
        p = payload(len, &h);
        ASSERT_EQ_INT(h.type, TRACKLE_FRAME_MARK);
        ASSERT_EQ_INT(trackle_wire_parse_mark(p, h.length, &m), 0);
        ASSERT_TRUE(m == 1234567890123ull);
        ASSERT_EQ_INT(trackle_wire_parse_mark(p, h.length - 1, &m), -EBADMSG);
        ASSERT_EQ_INT(trackle_wire_parse_mark(p, h.length + 1, &m), -EBADMSG);
}

int main(void)
{
        test_hello();
        test_before();
        test_event();
        test_exec();
        test_header_limits();
        test_ring();
        return test_result();
}
