/* trackle-wire.c - encoding and strict decoding of trackle control-socket frames (libc only). */
#include <errno.h>
#include <string.h>

#include "trackle-wire.h"

typedef struct Writer {
        uint8_t *buf;
        size_t size, pos;
        bool overflow;
} Writer;

static void put(Writer *w, const void *p, size_t n)
{
        if (w->overflow || n > w->size - w->pos) {
                w->overflow = true;
                return;
        }
        memcpy(w->buf + w->pos, p, n);
        w->pos += n;
}

static void put_u16(Writer *w, uint16_t v)
{
        put(w, &v, sizeof(v));
}

static void put_u32(Writer *w, uint32_t v)
{
        put(w, &v, sizeof(v));
}

static void put_u64(Writer *w, uint64_t v)
{
        put(w, &v, sizeof(v));
}

static int put_str(Writer *w, const char *s, size_t max)
{
        size_t n = s ? strlen(s) : 0;

        if (n > max || n > UINT16_MAX)
                return -ENAMETOOLONG;
        put_u16(w, (uint16_t)n);
        put(w, s, n);
        return 0;
}

static void begin(Writer *w, uint8_t *buf, size_t size, uint16_t type)
{
        *w = (Writer){.buf = buf, .size = size};
        put_u32(w, 0); /* length, patched by finish() */
        put_u16(w, type);
        put_u16(w, 0);
}

static int finish(Writer *w)
{
        uint32_t len;

        if (w->overflow)
                return -ENOBUFS;
        len = (uint32_t)(w->pos - TRACKLE_WIRE_HEADER_SIZE);
        memcpy(w->buf, &len, sizeof(len));
        return (int)w->pos;
}

static bool is_absolute(const char *s)
{
        return s && s[0] == '/';
}

int trackle_wire_hello(uint8_t *buf, size_t size, const TrackleHello *h)
{
        Writer w;

        begin(&w, buf, size, TRACKLE_FRAME_HELLO);
        put_u32(&w, h->version);
        put_u32(&w, h->flags);
        put_u64(&w, h->hint);
        put_u32(&w, h->pid);
        return finish(&w);
}

int trackle_wire_before(uint8_t *buf, size_t size, uint32_t op, uint32_t flags, const char *path)
{
        Writer w;
        int r;

        if (!is_absolute(path))
                return -EINVAL;
        begin(&w, buf, size, TRACKLE_FRAME_BEFORE);
        put_u32(&w, op);
        put_u32(&w, flags);
        r = put_str(&w, path, TRACKLE_WIRE_PATH_MAX);
        if (r < 0)
                return r;
        return finish(&w);
}

int trackle_wire_event(uint8_t *buf, size_t size, uint32_t op, const TrackleStat *before,
                       const char *path, const char *path2)
{
        static const TrackleStat unknown;
        Writer w;
        int r;

        if (!is_absolute(path))
                return -EINVAL;
        if (!before)
                before = &unknown;
        begin(&w, buf, size, TRACKLE_FRAME_EVENT);
        put_u32(&w, op);
        put_u32(&w, before->valid);
        put_u32(&w, before->mode);
        put_u32(&w, before->uid);
        put_u32(&w, before->gid);
        put_u64(&w, before->size);
        r = put_str(&w, path, TRACKLE_WIRE_PATH_MAX);
        if (r < 0)
                return r;
        r = put_str(&w, path2, TRACKLE_WIRE_PATH_MAX);
        if (r < 0)
                return r;
        return finish(&w);
}

int trackle_wire_exec(uint8_t *buf, size_t size, uint32_t uid, uint32_t euid, uint32_t pid,
                      uint32_t flags, const char *cwd, const char *file, char *const argv[])
{
        size_t argc_pos, used = 0;
        uint16_t argc = 0;
        Writer w;
        int r;

        /* Within 32 KiB as a whole, argv cut to fit: a forked child writes its EXEC frame on
         * its parent's stream socket, where only frames sent in one piece stay whole. */
        if (size > TRACKLE_WIRE_EXEC_FRAME_MAX)
                size = TRACKLE_WIRE_EXEC_FRAME_MAX;
        begin(&w, buf, size, TRACKLE_FRAME_EXEC);
        put_u32(&w, uid);
        put_u32(&w, euid);
        put_u32(&w, pid);
        put_u32(&w, flags & ~TRACKLE_EXEC_TRUNCATED); /* patched below if argv is cut */
        r = put_str(&w, cwd ? cwd : "", TRACKLE_WIRE_PATH_MAX);
        if (r < 0)
                return r;
        r = put_str(&w, file ? file : "", TRACKLE_WIRE_PATH_MAX);
        if (r < 0)
                return r;
        argc_pos = w.pos;
        put_u16(&w, 0);
        for (size_t i = 0; argv && argv[i]; i++) {
                size_t n = strlen(argv[i]);

                if (argc >= TRACKLE_WIRE_EXEC_ARGC_MAX ||
                    used + 2 + n > TRACKLE_WIRE_EXEC_ARGV_MAX || w.pos + 2 + n > size) {
                        flags |= TRACKLE_EXEC_TRUNCATED;
                        break;
                }
                put_u16(&w, (uint16_t)n);
                put(&w, argv[i], n);
                used += 2 + n;
                argc++;
        }
        if (w.overflow)
                return -ENOBUFS;
        memcpy(w.buf + argc_pos, &argc, sizeof(argc));
        if (flags & TRACKLE_EXEC_TRUNCATED) {
                uint32_t f = flags;

                memcpy(w.buf + TRACKLE_WIRE_HEADER_SIZE + 12, &f, sizeof(f));
        }
        return finish(&w);
}

int trackle_wire_missed(uint8_t *buf, size_t size, uint32_t count)
{
        Writer w;

        begin(&w, buf, size, TRACKLE_FRAME_MISSED);
        put_u32(&w, count);
        return finish(&w);
}

int trackle_wire_ring(uint8_t *buf, size_t size, uint32_t data_size)
{
        Writer w;

        begin(&w, buf, size, TRACKLE_FRAME_RING);
        put_u32(&w, data_size);
        put_u32(&w, 0);
        return finish(&w);
}

int trackle_wire_mark(uint8_t *buf, size_t size, uint64_t socket_frames)
{
        Writer w;

        begin(&w, buf, size, TRACKLE_FRAME_MARK);
        put(&w, &socket_frames, sizeof(socket_frames));
        return finish(&w);
}

int trackle_wire_ack(uint8_t *buf, size_t size, int32_t status)
{
        Writer w;

        begin(&w, buf, size, TRACKLE_FRAME_ACK);
        put(&w, &status, sizeof(status));
        return finish(&w);
}

int trackle_wire_json_header(uint8_t *buf, size_t size, size_t json_len)
{
        uint32_t len = (uint32_t)json_len;
        uint16_t type = TRACKLE_FRAME_JSON, flags = 0;

        if (json_len > TRACKLE_WIRE_JSON_REPLY_MAX)
                return -EMSGSIZE;
        if (size < TRACKLE_WIRE_HEADER_SIZE)
                return -ENOBUFS;
        memcpy(buf, &len, 4);
        memcpy(buf + 4, &type, 2);
        memcpy(buf + 6, &flags, 2);
        return TRACKLE_WIRE_HEADER_SIZE;
}

/* ---- decoding */

typedef struct Reader {
        const uint8_t *p;
        size_t n, pos;
        bool bad;
} Reader;

static void get(Reader *r, void *out, size_t n)
{
        if (r->bad || n > r->n - r->pos) {
                r->bad = true;
                memset(out, 0, n);
                return;
        }
        memcpy(out, r->p + r->pos, n);
        r->pos += n;
}

static uint16_t get_u16(Reader *r)
{
        uint16_t v;

        get(r, &v, sizeof(v));
        return v;
}

static uint32_t get_u32(Reader *r)
{
        uint32_t v;

        get(r, &v, sizeof(v));
        return v;
}

static uint64_t get_u64(Reader *r)
{
        uint64_t v;

        get(r, &v, sizeof(v));
        return v;
}

static TrackleString get_str(Reader *r, size_t max)
{
        TrackleString s = {};
        uint16_t n = get_u16(r);

        if (r->bad)
                return s;
        if (n > max || n > r->n - r->pos || memchr(r->p + r->pos, 0, n)) {
                r->bad = true;
                return s;
        }
        s.data = (const char *)r->p + r->pos;
        s.len = n;
        r->pos += n;
        return s;
}

static bool str_absolute(const TrackleString *s)
{
        return s->len > 0 && s->data[0] == '/';
}

static int done(const Reader *r)
{
        return r->bad || r->pos != r->n ? -EBADMSG : 0;
}

size_t trackle_wire_max_payload(uint16_t type)
{
        switch (type) {
        case TRACKLE_FRAME_HELLO:
        case TRACKLE_FRAME_BEFORE:
        case TRACKLE_FRAME_EVENT:
        case TRACKLE_FRAME_EXEC:
        case TRACKLE_FRAME_MISSED:
        case TRACKLE_FRAME_RING:
        case TRACKLE_FRAME_MARK:
        case TRACKLE_FRAME_ACK:
                return TRACKLE_WIRE_LIB_FRAME_MAX;
        case TRACKLE_FRAME_JSON:
                return TRACKLE_WIRE_JSON_REPLY_MAX;
        default:
                return 0;
        }
}

int trackle_wire_parse_header(const uint8_t *buf, size_t size, TrackleHeader *ret)
{
        TrackleHeader h;
        size_t max;

        if (size != TRACKLE_WIRE_HEADER_SIZE)
                return -EBADMSG;
        memcpy(&h.length, buf, 4);
        memcpy(&h.type, buf + 4, 2);
        memcpy(&h.flags, buf + 6, 2);
        max = trackle_wire_max_payload(h.type);
        if (max == 0 || h.flags != 0)
                return -EBADMSG;
        if (h.length > max)
                return -EMSGSIZE;
        *ret = h;
        return 0;
}

int trackle_wire_parse_hello(const uint8_t *p, size_t n, TrackleHello *ret)
{
        Reader r = {.p = p, .n = n};
        TrackleHello h;

        h.version = get_u32(&r);
        h.flags = get_u32(&r);
        h.hint = get_u64(&r);
        h.pid = get_u32(&r);
        if (done(&r) < 0 || h.version != TRACKLE_WIRE_VERSION ||
            (h.flags & ~(TRACKLE_HELLO_SECURE | TRACKLE_HELLO_ROOTFD)))
                return -EBADMSG;
        *ret = h;
        return 0;
}

bool trackle_op_is_before(uint32_t op)
{
        return op >= TRACKLE_OP_WRITE && op <= TRACKLE_OP_LINK_DST;
}

bool trackle_op_keeps_inode(uint32_t op)
{
        return op == TRACKLE_OP_UNLINK || op == TRACKLE_OP_RENAME_SRC ||
               op == TRACKLE_OP_RENAME_DST || op == TRACKLE_OP_LINK_DST;
}

bool trackle_op_is_event(uint32_t op)
{
        return op >= TRACKLE_OP_CREATED && op <= TRACKLE_OP_OPENED_EMPTY;
}

int trackle_wire_parse_before(const uint8_t *p, size_t n, TrackleBefore *ret)
{
        Reader r = {.p = p, .n = n};
        TrackleBefore b;

        b.op = get_u32(&r);
        b.flags = get_u32(&r);
        b.path = get_str(&r, TRACKLE_WIRE_PATH_MAX);
        if (done(&r) < 0 || !trackle_op_is_before(b.op) ||
            (b.flags & ~(TRACKLE_BEFORE_FD | TRACKLE_BEFORE_ASYNC)) || !str_absolute(&b.path))
                return -EBADMSG;
        if ((b.flags & TRACKLE_BEFORE_ASYNC) &&
            (!(b.flags & TRACKLE_BEFORE_FD) || !trackle_op_keeps_inode(b.op)))
                return -EBADMSG;
        *ret = b;
        return 0;
}

int trackle_wire_parse_event(const uint8_t *p, size_t n, TrackleEvent *ret)
{
        Reader r = {.p = p, .n = n};
        TrackleEvent e;
        bool two;

        e.op = get_u32(&r);
        e.before.valid = get_u32(&r);
        e.before.mode = get_u32(&r);
        e.before.uid = get_u32(&r);
        e.before.gid = get_u32(&r);
        e.before.size = get_u64(&r);
        e.path = get_str(&r, TRACKLE_WIRE_PATH_MAX);
        e.path2 = get_str(&r, TRACKLE_WIRE_PATH_MAX);
        if (done(&r) < 0 || !trackle_op_is_event(e.op) || e.before.valid > 1 ||
            !str_absolute(&e.path))
                return -EBADMSG;
        two = e.op == TRACKLE_OP_RENAMED || e.op == TRACKLE_OP_EXCHANGED ||
              e.op == TRACKLE_OP_LINK || e.op == TRACKLE_OP_SYMLINK;
        if (two != (e.path2.len > 0))
                return -EBADMSG;
        /* A symlink's target may be relative; every other second path is absolute. */
        if (two && e.op != TRACKLE_OP_SYMLINK && !str_absolute(&e.path2))
                return -EBADMSG;
        *ret = e;
        return 0;
}

int trackle_wire_parse_exec(const uint8_t *p, size_t n, TrackleExec *ret)
{
        Reader r = {.p = p, .n = n};
        TrackleExec e;

        e.uid = get_u32(&r);
        e.euid = get_u32(&r);
        e.pid = get_u32(&r);
        e.flags = get_u32(&r);
        e.cwd = get_str(&r, TRACKLE_WIRE_PATH_MAX);
        e.file = get_str(&r, TRACKLE_WIRE_PATH_MAX);
        e.argc = get_u16(&r);
        if (r.bad ||
            (e.flags & ~(TRACKLE_EXEC_TRUNCATED | TRACKLE_EXEC_FD | TRACKLE_EXEC_FORKED)) ||
            e.argc > TRACKLE_WIRE_EXEC_ARGC_MAX)
                return -EBADMSG;
        e.argv = r.p + r.pos;
        e.argv_len = r.n - r.pos;
        if (e.argv_len > TRACKLE_WIRE_EXEC_ARGV_MAX)
                return -EBADMSG;
        for (uint16_t i = 0; i < e.argc; i++)
                (void)get_str(&r, UINT16_MAX);
        if (done(&r) < 0)
                return -EBADMSG;
        *ret = e;
        return 0;
}

int trackle_wire_exec_next(const TrackleExec *e, size_t *off, TrackleString *ret)
{
        uint16_t n;

        if (*off + 2 > e->argv_len)
                return 0;
        memcpy(&n, e->argv + *off, 2);
        if (n > e->argv_len - *off - 2)
                return 0;
        ret->data = (const char *)e->argv + *off + 2;
        ret->len = n;
        *off += 2 + (size_t)n;
        return 1;
}

int trackle_wire_parse_missed(const uint8_t *p, size_t n, uint32_t *ret)
{
        Reader r = {.p = p, .n = n};
        uint32_t v = get_u32(&r);

        if (done(&r) < 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int trackle_wire_parse_ring(const uint8_t *p, size_t n, uint32_t *ret)
{
        Reader r = {.p = p, .n = n};
        uint32_t v = get_u32(&r), flags = get_u32(&r);

        if (done(&r) < 0 || flags != 0 || v < TRACKLE_RING_DATA_MIN || v > TRACKLE_RING_DATA_MAX ||
            (v & (v - 1)) != 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int trackle_wire_parse_mark(const uint8_t *p, size_t n, uint64_t *ret)
{
        Reader r = {.p = p, .n = n};
        uint64_t v;

        get(&r, &v, sizeof(v));
        if (done(&r) < 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int trackle_wire_parse_ack(const uint8_t *p, size_t n, int32_t *ret)
{
        Reader r = {.p = p, .n = n};
        int32_t v;

        get(&r, &v, sizeof(v));
        if (done(&r) < 0 || v > 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

const char *trackle_op_to_string(uint32_t op)
{
        switch (op) {
        case TRACKLE_OP_WRITE:
                return "write";
        case TRACKLE_OP_TRUNCATE:
                return "truncate";
        case TRACKLE_OP_UNLINK:
                return "unlink";
        case TRACKLE_OP_RENAME_SRC:
                return "rename-from";
        case TRACKLE_OP_RENAME_DST:
                return "rename-over";
        case TRACKLE_OP_LINK_DST:
                return "link-over";
        case TRACKLE_OP_CREATED:
                return "created";
        case TRACKLE_OP_MKDIR:
                return "mkdir";
        case TRACKLE_OP_RMDIR:
                return "rmdir";
        case TRACKLE_OP_UNLINKED:
                return "unlinked";
        case TRACKLE_OP_RENAMED:
                return "renamed";
        case TRACKLE_OP_EXCHANGED:
                return "exchanged";
        case TRACKLE_OP_SYMLINK:
                return "symlink";
        case TRACKLE_OP_LINK:
                return "link";
        case TRACKLE_OP_MKNOD:
                return "mknod";
        case TRACKLE_OP_CHMOD:
                return "chmod";
        case TRACKLE_OP_CHOWN:
                return "chown";
        case TRACKLE_OP_XATTR:
                return "xattr";
        case TRACKLE_OP_UTIME:
                return "utime";
        case TRACKLE_OP_TRUNCATED:
                return "truncated";
        case TRACKLE_OP_OPENED_EMPTY:
                return "opened-empty";
        default:
                return NULL;
        }
}
