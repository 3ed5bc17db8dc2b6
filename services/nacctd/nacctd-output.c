/* nacctd-output.c - line formatting, grouping by the reduced key, all-or-nothing appends to the
 * log and the dump file. Writes happen in the daemon itself, not in a forked child that loses
 * the lines when it fails: the records are reset only once their lines are in the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "utf8.h"

#include "nacctd-config.h"
#include "nacctd-hash.h"
#include "nacctd-net.h"
#include "nacctd-output.h"

void nacct_buffer_done(NacctBuffer *b)
{
        free(b->data);
        *b = (NacctBuffer){};
}

int nacct_buffer_append(NacctBuffer *b, const char *data, size_t len)
{
        /* One byte more than needed: the data is always NUL-terminated. */
        if (b->len + len + 1 > b->allocated) {
                size_t na = b->allocated ? b->allocated : 4096;
                char *nd;

                while (na < b->len + len + 1)
                        na *= 2;
                nd = realloc(b->data, na);
                if (!nd)
                        return -ENOMEM;
                b->data = nd;
                b->allocated = na;
        }
        if (len > 0)
                memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
}

static char *put_u64(char *p, uint64_t v)
{
        char tmp[20];
        size_t n = 0;

        do {
                tmp[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        while (n)
                *p++ = tmp[--n];
        return p;
}

/* Names from outside (interfaces, users) as the bundle shows them everywhere: bytes that are
 * not visible text as \xNN (utf8_escape_invisible()), so a name can neither split the line
 * nor shift its TAB-separated fields, nor hide or reorder text. */
static char *put_str(char *p, const char *s, size_t max)
{
        return p + utf8_escape_invisible_buf(s, strnlen(s, max), p);
}

size_t nacct_line_format(char *buf, const bool disabled[_NACCT_FIELD_MAX], int64_t time,
                         const NacctKey *k, uint64_t count, uint64_t bytes, const char *dev,
                         const char *user)
{
        char *p = buf;

        /* Field 1 can never be disabled. A negative time cannot happen outside a crafted file;
         * print it as 0 rather than as a huge unsigned number. */
        p = put_u64(p, time < 0 ? 0 : (uint64_t)time);
        if (!disabled[NACCT_FIELD_PROTO]) {
                *p++ = '\t';
                p = put_u64(p, k->proto);
        }
        if (!disabled[NACCT_FIELD_SRC]) {
                *p++ = '\t';
                p += nacct_addr_format(k->family, k->src, p);
        }
        if (!disabled[NACCT_FIELD_SPORT]) {
                *p++ = '\t';
                p = put_u64(p, k->sport);
        }
        if (!disabled[NACCT_FIELD_DST]) {
                *p++ = '\t';
                p += nacct_addr_format(k->family, k->dst, p);
        }
        if (!disabled[NACCT_FIELD_DPORT]) {
                *p++ = '\t';
                p = put_u64(p, k->dport);
        }
        if (!disabled[NACCT_FIELD_COUNT]) {
                *p++ = '\t';
                p = put_u64(p, count);
        }
        if (!disabled[NACCT_FIELD_BYTES]) {
                *p++ = '\t';
                p = put_u64(p, bytes);
        }
        if (!disabled[NACCT_FIELD_DEV]) {
                *p++ = '\t';
                p = put_str(p, dev ?: "?", 64);
        }
        if (!disabled[NACCT_FIELD_USER]) {
                *p++ = '\t';
                p = put_str(p, user ?: "unknown", 128);
        }
        *p++ = '\n';
        *p = '\0';
        return (size_t)(p - buf);
}

void nacct_collect_done(NacctCollect *c)
{
        nacct_buffer_done(&c->due);
        nacct_buffer_done(&c->pending);
        free(c->due_records);
        *c = (NacctCollect){};
}

static bool is_due(const NacctConfig *c, int64_t now, bool force, int64_t last, int64_t first)
{
        if (force)
                return true;
        if (now - last > (int64_t)c->fdelay_sec)
                return true;
        return c->active_sec > 0 && now - first >= (int64_t)c->active_sec;
}

static int emit(NacctCollect *col, bool due, const NacctConfig *c, int64_t now, const NacctKey *k,
                uint64_t count, uint64_t bytes, const NacctNames *devices, const NacctNames *users,
                uint32_t user)
{
        char line[NACCT_LINE_MAX];
        size_t len;

        len = nacct_line_format(line, c->disabled, now, k, count, bytes,
                                nacct_names_get(devices, k->dev), nacct_names_get(users, user));
        if (due) {
                col->n_due_lines++;
                return nacct_buffer_append(&col->due, line, len);
        }
        col->n_pending_lines++;
        return nacct_buffer_append(&col->pending, line, len);
}

typedef struct GroupKey {
        NacctKey key;
        uint32_t user;
} GroupKey;

typedef struct Group {
        GroupKey k;
        uint64_t count;
        uint64_t bytes;
        int64_t last;  /* latest packet of any member */
        int64_t first; /* oldest unwritten packet of any member */
        bool due;
} Group;

static bool key_reduced(const NacctConfig *c)
{
        for (int f = NACCT_FIELD_PROTO; f <= NACCT_FIELD_DPORT; f++)
                if (c->disabled[f])
                        return true;
        return false;
}

static void reduce_key(const NacctConfig *c, const NacctFlow *f, GroupKey *g)
{
        memset(g, 0, sizeof(*g));
        g->key = f->key;
        g->user = f->user;
        if (c->disabled[NACCT_FIELD_PROTO])
                g->key.proto = 0;
        if (c->disabled[NACCT_FIELD_SRC])
                memset(g->key.src, 0, sizeof(g->key.src));
        if (c->disabled[NACCT_FIELD_SPORT])
                g->key.sport = 0;
        if (c->disabled[NACCT_FIELD_DST])
                memset(g->key.dst, 0, sizeof(g->key.dst));
        if (c->disabled[NACCT_FIELD_DPORT])
                g->key.dport = 0;
}

static int collect_grouped(const NacctFlowTable *t, const NacctConfig *c, const NacctNames *devices,
                           const NacctNames *users, int64_t now, bool force, NacctCollect *col)
{
        _cleanup_free_ uint32_t *group_of = NULL, *index = NULL;
        _cleanup_free_ Group *groups = NULL;
        size_t n_groups = 0, index_size = 16;
        NacctHashKey hk;
        int r;

        nacct_hash_key_random(&hk);
        while (index_size < (size_t)t->n * 2)
                index_size *= 2;
        group_of = calloc(t->n ?: 1, sizeof(uint32_t));
        groups = calloc(t->n ?: 1, sizeof(Group));
        index = calloc(index_size, sizeof(uint32_t));
        if (!group_of || !groups || !index)
                return -ENOMEM;

        for (uint32_t i = 0; i < t->n; i++) {
                const NacctFlow *f = &t->flows[i];
                GroupKey gk;
                size_t slot;
                Group *g;

                if (f->dead || f->packets == 0)
                        continue;
                reduce_key(c, f, &gk);
                slot = (size_t)nacct_siphash13(&hk, &gk, sizeof(gk)) & (index_size - 1);
                for (;; slot = (slot + 1) & (index_size - 1)) {
                        if (index[slot] == 0) {
                                g = &groups[n_groups++];
                                g->k = gk;
                                g->first = f->first;
                                g->last = f->last;
                                index[slot] = (uint32_t)n_groups;
                                break;
                        }
                        g = &groups[index[slot] - 1];
                        if (memcmp(&g->k, &gk, sizeof(gk)) == 0)
                                break;
                }
                g->count += f->packets;
                g->bytes += f->bytes;
                g->last = MAX(g->last, f->last);
                g->first = MIN(g->first, f->first);
                group_of[i] = (uint32_t)(g - groups) + 1;
        }
        for (size_t i = 0; i < n_groups; i++) {
                Group *g = &groups[i];

                g->due = is_due(c, now, force, g->last, g->first);
                r = emit(col, g->due, c, now, &g->k.key, g->count, g->bytes, devices, users,
                         g->k.user);
                if (r < 0)
                        return r;
        }
        for (uint32_t i = 0; i < t->n; i++)
                if (group_of[i] && groups[group_of[i] - 1].due) {
                        col->due_records[i] = 1;
                        col->n_due_records++;
                }
        return 0;
}

int nacct_collect(const NacctFlowTable *t, const NacctConfig *c, const NacctNames *devices,
                  const NacctNames *users, int64_t now, bool force, NacctCollect *ret)
{
        NacctCollect col = {};
        int r = 0;

        col.due_records = calloc(t->n ?: 1, 1);
        if (!col.due_records)
                return -ENOMEM;
        if (key_reduced(c))
                r = collect_grouped(t, c, devices, users, now, force, &col);
        else
                for (uint32_t i = 0; i < t->n && r >= 0; i++) {
                        const NacctFlow *f = &t->flows[i];
                        bool due;

                        if (f->dead || f->packets == 0)
                                continue;
                        due = is_due(c, now, force, f->last, f->first);
                        r = emit(&col, due, c, now, &f->key, f->packets, f->bytes, devices, users,
                                 f->user);
                        if (due) {
                                col.due_records[i] = 1;
                                col.n_due_records++;
                        }
                }
        if (r < 0) {
                nacct_collect_done(&col);
                return r;
        }
        *ret = col;
        return 0;
}

int nacct_log_append(const char *path, const char *data, size_t len)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        /* Opened on every flush, as the original did: a renamed log is simply left behind. Only
         * a regular file: never a FIFO (which would block) or a device. */
        r = nacct_open_regular(path, O_WRONLY | O_APPEND | O_CREAT, &fd);
        if (r < 0)
                return r;
        if (len == 0)
                return 0;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        r = loop_write(fd, data, len);
        if (r < 0) {
                /* We are the only writer; cut a partial append off so the retry starts clean. */
                (void)!ftruncate(fd, st.st_size);
                return r;
        }
        return 0;
}

/* 1 if the file at path (opened as fd) starts with our marker, 0 if not. */
static int fd_is_dump(int fd)
{
        char head[sizeof(NACCT_DUMP_MAGIC) - 1];
        size_t got = 0;

        while (got < sizeof(head)) {
                ssize_t n = pread(fd, head + got, sizeof(head) - got, (off_t)got);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return 0;
                got += (size_t)n;
        }
        return memcmp(head, NACCT_DUMP_MAGIC, sizeof(head)) == 0;
}

int nacct_dump_is_ours(const char *path)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = nacct_open_regular(path, O_RDONLY, &fd);
        if (r < 0)
                return r;
        return fd_is_dump(fd);
}

/* Remove path only if it is a dump of ours: a daemon never deletes what it did not create. */
static int unlink_dump(const char *path)
{
        int r = nacct_dump_is_ours(path);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (r == 0)
                return -EEXIST;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int nacct_dump_write(const char *path, const char *data, size_t len)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (len == 0)
                return unlink_dump(path);
        /* What we replace must be ours (or nothing). */
        r = nacct_dump_is_ours(path);
        if (r == 0)
                return -EEXIST;
        if (r < 0 && r != -ENOENT)
                return r;
        if (asprintf(&tmp, "%s.new", path) < 0)
                return -ENOMEM;
        /* A leftover temporary file of ours (a crash between write and rename) goes; anything
         * else at that name stays, and the dump is not written. */
        r = unlink_dump(tmp);
        if (r < 0)
                return r;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
                return negative_errno();
        r = loop_write(fd, NACCT_DUMP_MAGIC, sizeof(NACCT_DUMP_MAGIC) - 1);
        if (r >= 0)
                r = loop_write(fd, data, len);
        if (r >= 0 && fdatasync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void)unlink(tmp); /* created by us above */
        return r;
}

int nacct_dump_recover(const char *dumpfile, const char *logfile, NacctBuffer *ret_backlog,
                       size_t *ret_lines)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_buffer_ NacctBuffer b = {};
        size_t lines = 0;
        char chunk[65536];
        int r;

        *ret_lines = 0;
        r = nacct_open_regular(dumpfile, O_RDONLY, &fd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = fd_is_dump(fd);
        if (r < 0)
                return r;
        if (r == 0)
                return -EEXIST;
        if (lseek(fd, sizeof(NACCT_DUMP_MAGIC) - 1, SEEK_SET) < 0)
                return negative_errno();
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                r = nacct_buffer_append(&b, chunk, (size_t)n);
                if (r < 0)
                        return r;
        }
        /* A dump is written atomically, so it ends with a newline; do not trust it blindly. */
        if (b.len > 0 && b.data[b.len - 1] != '\n') {
                r = nacct_buffer_append(&b, "\n", 1);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b.len; i++)
                lines += b.data[i] == '\n';
        *ret_lines = lines;
        r = nacct_log_append(logfile, b.data, b.len);
        if (r < 0) {
                /* The dump stays where it is; the caller keeps its lines and writes them with
                 * the next flush (and into the next dump). */
                *ret_backlog = b;
                b = (NacctBuffer){};
                return r;
        }
        if (unlink(dumpfile) < 0 && errno != ENOENT)
                return negative_errno();
        return 1;
}
