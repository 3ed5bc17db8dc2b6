/* trackle-wire.h - the framing of trackle's control socket (/run/tracksuite/trackle.sock):
 * fixed binary frames from libtrackle.so and JSON frames from the console tools.
 *
 * libc only, no allocation: the preload library links this too (it runs inside sudo).
 * Both ends are on one machine, so integers are in host byte order. Every length is checked
 * exactly: a frame whose fields do not add up to its length is refused whole.
 *
 * Frame: u32 length of the payload, u16 type, u16 flags (0), then the payload.
 * A string is u16 length + bytes (no NUL inside, no terminator). See trackle-protocol(7). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACKLE_WIRE_VERSION 1
#define TRACKLE_WIRE_HEADER_SIZE 8u
#define TRACKLE_WIRE_PATH_MAX 4096u        /* bytes of one path, without NUL */
#define TRACKLE_WIRE_LIB_FRAME_MAX 65536u  /* payload of any binary frame */
#define TRACKLE_WIRE_EXEC_ARGV_MAX 32768u  /* bytes of argv kept in one EXEC frame */
#define TRACKLE_WIRE_EXEC_FRAME_MAX 32768u /* an EXEC frame as sent, header included */
#define TRACKLE_WIRE_EXEC_ARGC_MAX 1024u
#define TRACKLE_WIRE_JSON_REQUEST_MAX (4u * 1024 * 1024) /* client -> trackled */
#define TRACKLE_WIRE_JSON_REPLY_MAX (512u * 1024 * 1024) /* trackled -> client */

typedef enum TrackleFrameType {
        /* libtrackle.so -> trackled */
        TRACKLE_FRAME_HELLO = 1,  /* first frame of a library connection; SCM_RIGHTS: O_PATH "/" */
        TRACKLE_FRAME_BEFORE = 2, /* synchronous: store this existing file before it changes */
        TRACKLE_FRAME_EVENT = 3,  /* asynchronous: something was created/removed/renamed/... */
        TRACKLE_FRAME_EXEC = 4,   /* asynchronous: this process is about to exec argv */
        TRACKLE_FRAME_MISSED = 5, /* asynchronous: events this process could not deliver */
        TRACKLE_FRAME_RING = 6,   /* asynchronous: SCM_RIGHTS: a sealed memfd, the event ring */
        TRACKLE_FRAME_MARK = 7, /* only inside a ring: u64 socket frames sent before what follows */
        /* trackled -> libtrackle.so */
        TRACKLE_FRAME_ACK = 0x81, /* reply to BEFORE: i32 status (0 or -errno) */
        /* console tools <-> trackled, both ways: one JSON object */
        TRACKLE_FRAME_JSON = 0x100,
} TrackleFrameType;

/* HELLO flags */
#define TRACKLE_HELLO_SECURE 0x1u /* AT_SECURE: a set-uid/set-gid program */
#define TRACKLE_HELLO_ROOTFD 0x2u /* an O_PATH fd of the process's "/" comes with the frame */

/* BEFORE flags */
#define TRACKLE_BEFORE_FD 0x1u /* an O_RDONLY fd of the file (opened by the caller) comes along */
/* No reply wanted: the file is about to be unlinked, renamed or linked over (ops UNLINK,
 * RENAME_SRC, RENAME_DST, LINK_DST), which leaves the content of the inode the passed fd holds
 * alone; trackled reads it later. Only with FD. */
#define TRACKLE_BEFORE_ASYNC 0x2u

/* The event ring (trackle-protocol(7) "EVENT RING"): a process that reports many events
 * writes its asynchronous frames (EVENT, EXEC, MISSED) into shared memory instead of one
 * sendmsg and one wake-up of trackled each. Layout of the memfd: TRACKLE_RING_HEADER bytes of
 * header (u32 magic, u32 data size, u64 head at offset 8 written by the process; u64 tail at
 * offset 64 written by trackled; head and tail count bytes ever written/consumed), then the
 * data, whole frames back to back, wrapping around. The process counts the socket frames it
 * sends after the RING frame; before the first ring frame written after a socket frame it
 * writes a MARK carrying that count. trackled works off the ring up to the first MARK whose
 * count exceeds the socket frames it has read, before it reads the next socket frame (and all
 * of it when the connection ends), so the two kinds keep the process's order. The memfd is
 * sealed against shrinking and growing: trackled maps it and must never fault on it. */
#define TRACKLE_RING_MAGIC 0x676e6952u /* "Ring" */
#define TRACKLE_RING_HEADER 128u
#define TRACKLE_RING_DATA_MIN 4096u
#define TRACKLE_RING_DATA_MAX (1024u * 1024)
#define TRACKLE_RING_OFF_HEAD 8u
#define TRACKLE_RING_OFF_TAIL 64u

/* EXEC flags */
#define TRACKLE_EXEC_TRUNCATED 0x1u /* argv was longer than fits; the rest is cut */
#define TRACKLE_EXEC_FD 0x2u        /* fexecve/execveat with an fd: file is "/proc/self/fd/N" */
#define TRACKLE_EXEC_FORKED                                                                        \
        0x4u /* a forked child's, on its parent's connection: pid is the child's */

/* What is about to happen (BEFORE) or has happened (EVENT). */
typedef enum TrackleOp {
        TRACKLE_OP_WRITE = 1,      /* BEFORE: open for writing (O_WRONLY/O_RDWR/O_APPEND) */
        TRACKLE_OP_TRUNCATE = 2,   /* BEFORE: O_TRUNC open, truncate(), fopen "w" */
        TRACKLE_OP_UNLINK = 3,     /* BEFORE: unlink/remove of a file or symlink */
        TRACKLE_OP_RENAME_SRC = 4, /* BEFORE: the file is about to be renamed away */
        TRACKLE_OP_RENAME_DST = 5, /* BEFORE: the file is about to be replaced by a rename */
        TRACKLE_OP_LINK_DST = 6,   /* BEFORE: about to be replaced (symlink/link over, rare) */

        TRACKLE_OP_CREATED =
                20,            /* EVENT: path did not exist and now does (open O_CREAT, mkstemp) */
        TRACKLE_OP_MKDIR = 21, /* EVENT: path2 empty */
        TRACKLE_OP_RMDIR = 22, /* EVENT: carries the directory's stat before */
        TRACKLE_OP_UNLINKED = 23,  /* EVENT: after a successful unlink */
        TRACKLE_OP_RENAMED = 24,   /* EVENT: path -> path2 succeeded */
        TRACKLE_OP_EXCHANGED = 25, /* EVENT: renameat2(RENAME_EXCHANGE) path <-> path2 */
        TRACKLE_OP_SYMLINK = 26,   /* EVENT: path is a new symlink to path2 */
        TRACKLE_OP_LINK = 27,      /* EVENT: path is a new hard link of path2 */
        TRACKLE_OP_MKNOD = 28,     /* EVENT: fifo/device/socket node */
        TRACKLE_OP_CHMOD = 29,     /* EVENT: metadata; carries the stat before */
        TRACKLE_OP_CHOWN = 30,
        TRACKLE_OP_XATTR = 31,
        TRACKLE_OP_UTIME = 32,
        TRACKLE_OP_TRUNCATED = 33, /* EVENT: ftruncate etc. on an fd already reported */
        /* EVENT, instead of a BEFORE: an existing regular file that was empty (its stat
         * before, size 0) is about to be opened for writing; sent before the open */
        TRACKLE_OP_OPENED_EMPTY = 34,
} TrackleOp;

typedef struct TrackleStat {
        uint32_t valid; /* 0: unknown (no stat before), 1: the fields below are set */
        uint32_t mode;  /* st_mode, with the type bits */
        uint32_t uid;
        uint32_t gid;
        uint64_t size;
} TrackleStat;

typedef struct TrackleString {
        const char *data; /* not NUL-terminated when decoded: points into the frame */
        uint16_t len;
} TrackleString;

typedef struct TrackleHello {
        uint32_t version;
        uint32_t flags;
        uint64_t hint; /* session id from TRACKLE_SESSION, 0 if none: a hint, never trusted */
        uint32_t pid;  /* informational; trackled uses SO_PEERCRED */
} TrackleHello;

typedef struct TrackleBefore {
        uint32_t op;
        uint32_t flags;
        TrackleString path; /* absolute */
} TrackleBefore;

typedef struct TrackleEvent {
        uint32_t op;
        TrackleStat before;  /* for RMDIR, CHMOD, CHOWN, XATTR, UTIME: what it was before */
        TrackleString path;  /* absolute */
        TrackleString path2; /* RENAMED/EXCHANGED target, SYMLINK target, LINK source; or empty */
} TrackleEvent;

typedef struct TrackleExec {
        uint32_t uid, euid, pid, flags;
        TrackleString cwd;
        TrackleString file; /* what was asked to exec: path or name as given */
        uint16_t argc;
        const uint8_t *argv; /* argc strings back to back, each u16 length + bytes */
        size_t argv_len;
} TrackleExec;

typedef struct TrackleHeader {
        uint32_t length;
        uint16_t type;
        uint16_t flags;
} TrackleHeader;

/* Encoders write a whole frame (header + payload) into buf and return its size, or -ENOBUFS
 * (buffer too small), -ENAMETOOLONG (path too long), -EINVAL (NUL in a string). */
int trackle_wire_hello(uint8_t *buf, size_t size, const TrackleHello *h);
int trackle_wire_before(uint8_t *buf, size_t size, uint32_t op, uint32_t flags, const char *path);
int trackle_wire_event(uint8_t *buf, size_t size, uint32_t op, const TrackleStat *before,
                       const char *path, const char *path2);
/* argv is cut (TRACKLE_EXEC_TRUNCATED) rather than refused when it does not fit. */
int trackle_wire_exec(uint8_t *buf, size_t size, uint32_t uid, uint32_t euid, uint32_t pid,
                      uint32_t flags, const char *cwd, const char *file, char *const argv[]);
int trackle_wire_missed(uint8_t *buf, size_t size, uint32_t count);
int trackle_wire_ring(uint8_t *buf, size_t size, uint32_t data_size);
int trackle_wire_mark(uint8_t *buf, size_t size, uint64_t socket_frames);
int trackle_wire_ack(uint8_t *buf, size_t size, int32_t status);
/* JSON frame header only; the caller sends the text after it. */
int trackle_wire_json_header(uint8_t *buf, size_t size, size_t json_len);

/* Decoders: the header (8 bytes exactly), and payloads of the given length. They return 0, or
 * -EBADMSG for any malformed input (wrong length, field overrun, NUL in a string, relative
 * path, bad op, unknown type, non-zero flags), -EMSGSIZE for a length over the type's limit. */
int trackle_wire_parse_header(const uint8_t *buf, size_t size, TrackleHeader *ret);
int trackle_wire_parse_hello(const uint8_t *p, size_t n, TrackleHello *ret);
int trackle_wire_parse_before(const uint8_t *p, size_t n, TrackleBefore *ret);
int trackle_wire_parse_event(const uint8_t *p, size_t n, TrackleEvent *ret);
int trackle_wire_parse_exec(const uint8_t *p, size_t n, TrackleExec *ret);
int trackle_wire_parse_missed(const uint8_t *p, size_t n, uint32_t *ret);
/* data size: a power of two in [TRACKLE_RING_DATA_MIN, TRACKLE_RING_DATA_MAX] */
int trackle_wire_parse_ring(const uint8_t *p, size_t n, uint32_t *ret);
int trackle_wire_parse_mark(const uint8_t *p, size_t n, uint64_t *ret);
int trackle_wire_parse_ack(const uint8_t *p, size_t n, int32_t *ret);

/* Walk the argv of a parsed EXEC: *off starts at 0; returns 1 and the next string, 0 at the
 * end. The strings were validated by trackle_wire_parse_exec(). */
int trackle_wire_exec_next(const TrackleExec *e, size_t *off, TrackleString *ret);

/* The largest payload a frame of this type may carry (0 for an unknown type). */
size_t trackle_wire_max_payload(uint16_t type);

const char *trackle_op_to_string(uint32_t op);
bool trackle_op_is_before(uint32_t op);
/* A BEFORE op whose call leaves the old inode's content alone (unlink, rename, link over). */
bool trackle_op_keeps_inode(uint32_t op);
bool trackle_op_is_event(uint32_t op);
