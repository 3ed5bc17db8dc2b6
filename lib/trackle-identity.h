/* trackle-identity.h - is this process in an open trackle session? The one check that
 * libtrackle.so, trackle-shell-prompt and anything else that asks make (contract "Session
 * identity", item 4): kernel facts and root-owned markers only. libc only, no allocation, no
 * output, errno kept: it runs inside libtrackle.so's host processes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict decimal: digits only, no sign, no leading zero, no overflow, > 0. */
bool trackle_parse_u64(const char *s, size_t len, uint64_t *ret);

/* v in decimal into out (at least 21 bytes), NUL-terminated; returns the digits written. */
size_t trackle_fmt_u64(char *out, uint64_t v);

/* In a session if /proc/self/sessionid is valid and TRACKLE_ACTIVE_DIR/a<id> is a regular
 * root-owned marker nobody else can write (audit mode); or, with hint (the TRACKLE_SESSION
 * value the program started with, 0: none), if TRACKLE_ACTIVE_DIR/p<hint> is such a marker
 * and walking this process's real parents reaches its leader pid with the same start time
 * (ancestry mode). The hint alone proves nothing. Returns true with the trackle session id
 * and whether the audit marker decided (ret_audit may be NULL). */
bool trackle_identity_check(uint64_t hint, uint64_t *ret_session, bool *ret_audit);

/* The same, with its buffers (1.7 KiB) in *work instead of on the stack: libtrackle.so keeps
 * them in its state, under its lock, so that a signal handler on a small alternate stack can
 * afford the check. */
typedef struct TrackleIdentityWork {
        char path[128];
        char text[512];
        char stat[1024];
} TrackleIdentityWork;
bool trackle_identity_check_in(TrackleIdentityWork *work, uint64_t hint, uint64_t *ret_session,
                               bool *ret_audit);
