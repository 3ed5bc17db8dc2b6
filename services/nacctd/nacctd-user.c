/* nacctd-user.c - dynamicip and utmp lookups with small caches. Unlike the original, a file
 * rewritten in place is noticed (we compare the file's own inode, size and mtime, not the
 * directory's), an empty or binary file means "unknown" instead of an out-of-bounds read, and
 * the cache is bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>

#include "log.h"
#include "utf8.h"

#include "nacctd-config.h"
#include "nacctd-debug.h"
#include "nacctd-hash.h"
#include "nacctd-net.h"
#include "nacctd-user.h"

#define UTMP_TTYS_MAX 4096

typedef struct DynEntry {
        bool used;
        uint8_t family;
        uint8_t addr[16];
        uint32_t user; /* one reference held by the cache */
        int64_t checked;
        bool exists;
        ino_t ino;
        off_t size;
        struct timespec mtime;
} DynEntry;

typedef struct TtyUser {
        char tty[UT_LINESIZE + 1];
        char user[UT_NAMESIZE + 1];
} TtyUser;

struct NacctUsers {
        NacctNames *names; /* borrowed */
        NacctHashKey key;
        DynEntry *dyn; /* open addressing, NACCT_USER_CACHE_MAX * 2 slots */
        size_t n_dyn;
        char *utmp_path;
        int64_t utmp_checked;
        struct timespec utmp_mtime;
        ino_t utmp_ino;
        bool utmp_loaded;
        TtyUser *ttys;
        size_t n_ttys;
        RateLimit warn;
};

#define DYN_SLOTS (NACCT_USER_CACHE_MAX * 2)

int nacct_users_new(NacctNames *names, NacctUsers **ret)
{
        NacctUsers *u = calloc(1, sizeof(*u));

        if (!u)
                return -ENOMEM;
        u->names = names;
        nacct_hash_key_random(&u->key);
        u->warn = (RateLimit){.interval_usec = 60ULL * 1000000ULL, .burst = 10};
        *ret = u;
        return 0;
}

static void dyn_clear(NacctUsers *u)
{
        if (!u->dyn)
                return;
        for (size_t i = 0; i < DYN_SLOTS; i++)
                if (u->dyn[i].used)
                        nacct_names_unref(u->names, u->dyn[i].user);
        memset(u->dyn, 0, sizeof(DynEntry) * DYN_SLOTS);
        u->n_dyn = 0;
}

NacctUsers *nacct_users_free(NacctUsers *u)
{
        if (!u)
                return NULL;
        dyn_clear(u);
        free(u->dyn);
        free(u->utmp_path);
        free(u->ttys);
        free(u);
        return NULL;
}

void nacct_users_reset(NacctUsers *u)
{
        dyn_clear(u);
        u->utmp_loaded = false;
        u->n_ttys = 0;
}

int nacct_users_set_utmp_path(NacctUsers *u, const char *path)
{
        char *p = path ? strdup(path) : NULL;

        if (path && !p)
                return -ENOMEM;
        free(u->utmp_path);
        u->utmp_path = p;
        u->utmp_loaded = false;
        return 0;
}

int nacct_user_name_check(const char *s, size_t len, size_t *ret_len)
{
        size_t n = strcspn(s, "\n");

        if (n > len)
                n = len;
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                n--;
        if (n > 0 && (*s == ' ' || *s == '\t'))
                return -EINVAL;
        if (n == 0 || n > NACCT_USER_NAME_MAX)
                return -EINVAL;
        if (memchr(s, ' ', n) || memchr(s, '\t', n) || !utf8_is_visible_n(s, n))
                return -EINVAL;
        *ret_len = n;
        return 0;
}

static uint32_t user_ref(NacctUsers *u, const char *name)
{
        uint32_t id;
        int r;

        r = nacct_names_ref(u->names, name, &id);
        if (r < 0) {
                if (ratelimit_below(&u->warn, (unsigned long long)time(NULL) * 1000000ULL, NULL))
                        log_warning_errno(r, "Cannot remember user '%s', counting as unknown: %m",
                                          name);
                return NACCT_NAME_NONE;
        }
        return id;
}

/* Read the first line of dir/<addr>; NACCT_NAME_NONE if missing, empty or not a name. */
static uint32_t dyn_read(NacctUsers *u, const char *path, const char *addr)
{
        char buf[NACCT_USER_NAME_MAX + 64];
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t len = 0, n;
        ssize_t k;

        nacct_debug(NACCT_DEBUG_DYNA, "%lld: reading %s", (long long)time(NULL), path);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return NACCT_NAME_NONE;
        /* A regular file only: a FIFO or a device there is nobody's name. */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return NACCT_NAME_NONE;
        while (len < sizeof(buf) - 1) {
                k = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t)k;
        }
        buf[len] = '\0';
        if (nacct_user_name_check(buf, len, &n) < 0) {
                if (len > 0 &&
                    ratelimit_below(&u->warn, (unsigned long long)time(NULL) * 1000000ULL, NULL))
                        log_warning("'%s' does not hold a user name, counting %s as unknown.", path,
                                    addr);
                return NACCT_NAME_NONE;
        }
        buf[n] = '\0';
        nacct_debug(NACCT_DEBUG_DYNA, "found %s for %s", buf, addr);
        return user_ref(u, buf);
}

static DynEntry *dyn_slot(NacctUsers *u, uint8_t family, const uint8_t b[16])
{
        uint8_t k[17];
        size_t i;

        k[0] = family;
        memcpy(k + 1, b, 16);
        i = (size_t)nacct_siphash13(&u->key, k, sizeof(k)) & (DYN_SLOTS - 1);
        for (;; i = (i + 1) & (DYN_SLOTS - 1)) {
                DynEntry *e = &u->dyn[i];

                if (!e->used || (e->family == family && memcmp(e->addr, b, 16) == 0))
                        return e;
        }
}

uint32_t nacct_users_dynamic(NacctUsers *u, const char *dir, uint8_t family, const uint8_t b[16],
                             int64_t now)
{
        char addr[NACCT_ADDR_STRLEN];
        _cleanup_free_ char *path = NULL;
        struct stat st;
        DynEntry *e;
        bool exists;

        if (!u->dyn) {
                u->dyn = calloc(DYN_SLOTS, sizeof(DynEntry));
                if (!u->dyn)
                        return NACCT_NAME_NONE;
        }
        e = dyn_slot(u, family, b);
        if (e->used && now - e->checked < NACCT_USER_RECHECK_SEC && now >= e->checked)
                goto found;

        nacct_addr_format(family, b, addr);
        if (asprintf(&path, "%s/%s", dir, addr) < 0)
                return NACCT_NAME_NONE;
        exists = stat(path, &st) >= 0 && S_ISREG(st.st_mode);
        if (e->used) {
                bool same = e->exists == exists &&
                            (!exists || (e->ino == st.st_ino && e->size == st.st_size &&
                                         e->mtime.tv_sec == st.st_mtim.tv_sec &&
                                         e->mtime.tv_nsec == st.st_mtim.tv_nsec));
                e->checked = now;
                if (same)
                        goto found;
                nacct_names_unref(u->names, e->user);
        } else {
                if (u->n_dyn >= NACCT_USER_CACHE_MAX) {
                        dyn_clear(u);
                        e = dyn_slot(u, family, b);
                }
                u->n_dyn++;
                e->used = true;
                e->family = family;
                memcpy(e->addr, b, 16);
                e->checked = now;
        }
        e->exists = exists;
        if (exists) {
                e->ino = st.st_ino;
                e->size = st.st_size;
                e->mtime = st.st_mtim;
        }
        e->user = exists ? dyn_read(u, path, addr) : NACCT_NAME_NONE;
found:
        nacct_names_ref_id(u->names, e->user);
        return e->user;
}

static void utmp_load(NacctUsers *u)
{
        const char *path = u->utmp_path ?: _PATH_UTMP;
        TtyUser *ttys = NULL;
        size_t n = 0;
        struct utmp *ut;

        nacct_debug(NACCT_DEBUG_UTMP, "reading %s", path);
        if (utmpname(path) < 0)
                return;
        setutent();
        while ((ut = getutent())) {
                TtyUser *t;

                if (ut->ut_type != USER_PROCESS || ut->ut_line[0] == '\0' ||
                    ut->ut_user[0] == '\0' || n >= UTMP_TTYS_MAX)
                        continue;
                t = realloc(ttys, sizeof(TtyUser) * (n + 1));
                if (!t)
                        break;
                ttys = t;
                memset(&ttys[n], 0, sizeof(TtyUser));
                memcpy(ttys[n].tty, ut->ut_line, strnlen(ut->ut_line, UT_LINESIZE));
                memcpy(ttys[n].user, ut->ut_user, strnlen(ut->ut_user, UT_NAMESIZE));
                n++;
        }
        endutent();
        free(u->ttys);
        u->ttys = ttys;
        u->n_ttys = n;
}

uint32_t nacct_users_utmp(NacctUsers *u, const char *tty, int64_t now)
{
        const char *path = u->utmp_path ?: _PATH_UTMP;
        size_t n;

        if (!u->utmp_loaded || now - u->utmp_checked >= NACCT_USER_RECHECK_SEC ||
            now < u->utmp_checked) {
                struct stat st;
                bool changed = true;

                if (stat(path, &st) >= 0) {
                        changed = !u->utmp_loaded || st.st_ino != u->utmp_ino ||
                                  st.st_mtim.tv_sec != u->utmp_mtime.tv_sec ||
                                  st.st_mtim.tv_nsec != u->utmp_mtime.tv_nsec;
                        u->utmp_ino = st.st_ino;
                        u->utmp_mtime = st.st_mtim;
                } else
                        u->n_ttys = 0;
                if (changed)
                        utmp_load(u);
                u->utmp_loaded = true;
                u->utmp_checked = now;
        }
        for (size_t i = 0; i < u->n_ttys; i++)
                if (streq(u->ttys[i].tty, tty)) {
                        if (nacct_user_name_check(u->ttys[i].user, strlen(u->ttys[i].user), &n) < 0)
                                return NACCT_NAME_NONE;
                        nacct_debug(NACCT_DEBUG_UTMP, "found %s on %s", u->ttys[i].user, tty);
                        return user_ref(u, u->ttys[i].user);
                }
        return NACCT_NAME_NONE;
}
