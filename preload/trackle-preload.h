/* trackle-preload.h - internals of libtrackle.so shared by its modules (nothing is exported). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "trackle-wire.h"

#define TP_EXPORT __attribute__((visibility("default")))
#define TP_PATH_SIZE (TRACKLE_WIRE_PATH_MAX + 1)

/* Hide a pointer from the compiler's nonnull reasoning: glibc declares most of the functions we
 * wrap __nonnull, but a caller may still pass NULL and must then get glibc's own EFAULT. */
static inline const char *tp_launder(const char *p)
{
        __asm__("" : "+r"(p));
        return p;
}

/* What a wrapper learnt before the real call: the absolute path and the stat before. The
 * path is in a buffer of the library's (TP_PATH_SIZE), not on the caller's stack: a wrapper
 * may run in a signal handler on a small alternate stack. Declare it with TP_PRE(), which
 * gives the buffer back when the wrapper returns (and see slot_reclaim() for one that never
 * does). */
typedef struct TpPre {
        bool active; /* in a session and the path is one we record */
        bool exists;
        bool reported; /* trackled has its state before: a BEFORE went (or had gone) for it */
        pid_t pid;     /* of this process, from the check before the call */
        struct stat st;
        char *abs; /* while active; NULL when no buffer was taken */
        /* The frame of the function that declared it, for taking back the buffers of
         * wrappers that never returned (slot_reclaim()) */
        uintptr_t frame;
} TpPre;
void tp_pre_done(TpPre *p);
#define TP_PRE(name)                                                                               \
        TpPre name __attribute__((cleanup(tp_pre_done))) = {                                       \
                .abs = NULL, .frame = (uintptr_t)__builtin_frame_address(0)}

/* preload-core.c */
/* tp_pre() statflags: the call succeeds only on an existing path (unlink, rmdir, chmod...) */
#define TP_MUST_EXIST 0x40000000
/* ...or the call fails on an existing path (link, symlink, mkdir, mknod): nothing to stat */
#define TP_NEW_ONLY 0x20000000
/* ...and a path this process already reported (made it, or sent its BEFORE) needs no stat:
 * trackled has its first state, and the event's metadata before would tell it nothing. The
 * TpPre is then active, not exists, reported. */
#define TP_KNOWN_SKIP 0x10000000
void tp_pre(TpPre *p, int dirfd, const char *path, int statflags, uint32_t before_op);
void tp_pre_open(TpPre *p, int dirfd, const char *path, int flags);
void tp_pre_fd(TpPre *p, int fd);
void tp_post(const TpPre *p, uint32_t op, const char *path2);
/* After a successful open, whether tp_pre_open() looked at it or not: remember fd if trackled
 * now knows the file's state before (created by this call, or reported by a BEFORE), so that
 * metadata calls on that fd (futimens, fchown, fchmod: three per file that tar extracts) cost
 * no system call; forget it otherwise. */
void tp_opened(const TpPre *p, int fd);
/* true if fd is such a file still: its metadata changes add nothing to what trackled gets
 * (its state before is known, its state after is taken when the connection ends). */
bool tp_fd_reported(int fd);
/* fd, or fds first..last, closed (or about to be replaced, by dup2/dup3/freopen). */
void tp_fd_closed(int fd);
void tp_fds_closed(unsigned first, unsigned last);
/* The real pid; in a child of vfork(), first drops what it cached in its parent's memory. */
pid_t tp_vfork_check(void);
/* Whether the descriptor shortcuts above hold anything (no system call). */
bool tp_fd_cache_used(void);
/* This process renamed a directory: names of directory descriptors are looked up afresh. */
void tp_dirs_moved(void);
void tp_post_created(int dirfd, const char *path, bool dir);
void tp_exec_frame(uint32_t flags, const char *file, char *const argv[]);

/* The values the exec wrappers put into a child's environment. */
typedef struct TpExecInfo {
        uint64_t session;
        const char *preload; /* TRACKLE_PRELOAD_NAME or the absolute path we run from (the
                              * library's own copy, set once per program image) */
} TpExecInfo;
bool tp_exec_info(TpExecInfo *ret);

/* The real functions the wrappers call, looked up (dlsym(RTLD_NEXT)) at first use and kept
 * in the library's state page (preload-core.c): slot i, or NULL if there is none. Slots below
 * TP_REAL_FIRST are the exec family's, resolved by atfork_prepare() before every fork() so
 * that no child looks them up between fork and exec; each other call site of REAL() in
 * preload-wrap.c has a slot of its own. */
enum { TP_REAL_execve, TP_REAL_execvpe, TP_REAL_fexecve, TP_REAL_execveat, TP_REAL_FIRST };
#define TP_REAL_SLOTS 80
void *tp_real(unsigned slot, const char *name);
/* preload-core.c: look up the real execve and execvpe now (before a fork) */
void tp_resolve_exec(void);

/* preload-env.c */
/* Kept small: an exec wrapper may run in a signal handler on a small stack. A longer
 * environment or LD_PRELOAD value goes into one mmap (when the caller allows it). */
#define TP_ENV_SMALL 64
#define TP_LDP_SMALL 512
#define TP_LDP_MAX (2 * TP_PATH_SIZE + 32)
typedef struct TpEnvBuf {
        char **vec;
        void *map;
        size_t map_len;
        char *small[TP_ENV_SMALL];
        char *ld_preload; /* ld_small, the caller's ld_buf, or in map */
        size_t ld_size;
        char ld_small[TP_LDP_SMALL];
        char session[48];
} TpEnvBuf;
/* A copy of envp without LD_PRELOAD=/TRACKLE_SESSION= and with ours; NULL: use envp as is.
 * vec/cap: the caller's vector (else b's, or a map); ld_buf/ld_size: the caller's buffer for
 * an LD_PRELOAD value longer than b's (else a map); may_map: whether mmap may be used. */
char **tp_env_build(TpEnvBuf *b, const TpExecInfo *info, char *const envp[], char **vec, size_t cap,
                    char *ld_buf, size_t ld_size, bool may_map);
void tp_env_free(TpEnvBuf *b);
