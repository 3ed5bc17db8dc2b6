/* nacctd-config.h - naccttab(5): the original's directives with their meaning, validated, plus a
 * few of our own; every problem reported as file:line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#include "nacctd-net.h"

#define NACCT_CONFIG_FILE_MAX (1024 * 1024)
#define NACCT_CONFIG_LINE_MAX 4096
#define NACCT_CONFIG_LIST_MAX 4096 /* entries of any repeatable directive */
#define NACCT_CONFIG_MESSAGES_MAX 64
#define NACCT_CONFIG_MESSAGE_LEN 256
#define NACCT_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

/* Output fields of the classic line (spec 1.3), numbered as the `disable` directive does. */
enum {
        NACCT_FIELD_TIME = 1,
        NACCT_FIELD_PROTO = 2,
        NACCT_FIELD_SRC = 3,
        NACCT_FIELD_SPORT = 4,
        NACCT_FIELD_DST = 5,
        NACCT_FIELD_DPORT = 6,
        NACCT_FIELD_COUNT = 7,
        NACCT_FIELD_BYTES = 8,
        NACCT_FIELD_DEV = 9,
        NACCT_FIELD_USER = 10,
        _NACCT_FIELD_MAX = 11,
};

/* Debug categories of the `debug` bitmask, with the original's values. */
enum {
        NACCT_DEBUG_CONFIG = 1u << 1,
        NACCT_DEBUG_STATE = 1u << 2,
        NACCT_DEBUG_UTMP = 1u << 3,
        NACCT_DEBUG_DYNA = 1u << 4,
        NACCT_DEBUG_SYSCALL = 1u << 5,
        NACCT_DEBUG_IGNORE = 1u << 6,
        NACCT_DEBUG_MISC = 1u << 7,
        NACCT_DEBUG_STATS = 1u << 8,
        NACCT_DEBUG_SIGNAL = 1u << 9,
        NACCT_DEBUG_ERROR = 1u << 10,
        NACCT_DEBUG_ANNOY = 1u << 30,
};

typedef struct NacctLineMap {
        char *ifname; /* interface name or glob */
        char *tty;    /* utmp ut_line */
} NacctLineMap;

typedef struct NacctConfig {
        char *path; /* the file this came from */

        /* The original's directives. */
        uint64_t flush_sec;  /* flush */
        uint64_t fdelay_sec; /* fdelay */
        char *file;          /* file: the log, required */
        char *dumpfile;      /* dumpfile: snapshot of what is not yet in the log */
        char *debugfile;     /* debugfile */
        unsigned file_line;  /* the lines that set them, for messages */
        unsigned dumpfile_line;
        unsigned debugfile_line;
        uint32_t debug;    /* debug: NACCT_DEBUG_* bits */
        uint32_t errdelay; /* errdelay: flush cycles to wait after a failed write */
        uint8_t ignoremask[4];
        NacctNet *ignorenet;
        size_t n_ignorenet;
        NacctNet *dontignore;
        size_t n_dontignore;
        char **notdev; /* names or globs */
        size_t n_notdev;
        char **iflimit;
        size_t n_iflimit;
        NacctAddr *hostlimit;
        size_t n_hostlimit;
        char **promisc; /* device */
        size_t n_promisc;
        char *dynamicip;      /* directory, without trailing '/' */
        NacctNet dynamicnet4; /* dynamicnet: one per family, a later line overrides */
        NacctNet dynamicnet6;
        NacctNet *exclude; /* exclude-name-lookup */
        size_t n_exclude;
        NacctLineMap *lines; /* line */
        size_t n_lines;
        bool disabled[_NACCT_FIELD_MAX]; /* disable */
        unsigned n_headers;              /* headers: accepted and ignored */
        bool masqif;                     /* masqif: accepted and ignored */

        /* Ours. */
        uint64_t active_sec;     /* activetimeout: a busy flow is written at least this often */
        uint64_t bin_sec;        /* bin: time bin of the SQLite aggregates */
        uint64_t retention_days; /* retention: bins older than this are deleted, 0 = keep */
        uint32_t snaplen;        /* snaplen */
        uint64_t capture_buffer; /* capturebuffer: bytes of ring per interface */
        uint32_t max_flows;      /* maxflows */
        uint32_t max_captures;   /* maxcaptures */
} NacctConfig;

typedef enum NacctConfigSeverity {
        NACCT_CONFIG_ERROR,   /* the configuration cannot be used: nothing would be collected */
        NACCT_CONFIG_NOTICE,  /* accepted as the original did, but without effect */
        NACCT_CONFIG_WARNING, /* a line with an unknown keyword or a bad value, ignored */
} NacctConfigSeverity;

typedef struct NacctConfigMessage {
        NacctConfigSeverity severity;
        unsigned line; /* 0: about the file as a whole */
        char text[NACCT_CONFIG_MESSAGE_LEN];
} NacctConfigMessage;

/* What parsing had to say, errors and notices in file order. */
typedef struct NacctConfigReport {
        NacctConfigMessage messages[NACCT_CONFIG_MESSAGES_MAX];
        size_t n;
        size_t n_errors;
        size_t n_warnings; /* lines ignored: --check-config fails, the daemon runs */
        size_t n_dropped;  /* messages beyond NACCT_CONFIG_MESSAGES_MAX */
} NacctConfigReport;

NacctConfig *nacct_config_free(NacctConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctConfig *, nacct_config_free)

/* Parse the text of a naccttab (NUL-terminated, length len). A line with an unknown keyword or a
 * bad value is a warning and ignored, as systemd does with its own files, so that one typo does
 * not stop accounting. On success *ret is a new config (report->n_warnings may be > 0); with an
 * error that leaves nothing usable (no log file, one file named for two purposes) -EINVAL is
 * returned. The report says what and where. */
int nacct_config_parse(const char *path, const char *text, size_t len, NacctConfigReport *report,
                       NacctConfig **ret);
/* Read and parse a file, and check the files it names (nacct_config_check_files()). I/O errors
 * are returned as -errno with a line-0 message. Never blocks on a FIFO. */
int nacct_config_load(const char *path, NacctConfigReport *report, NacctConfig **ret);

/* The files of a configuration as they are on disk: `file`, `dumpfile` and `debugfile` must be
 * regular files where they exist (debugfile may also be /dev/null), must be three different
 * files, and an existing dumpfile must be one nacctd wrote. Errors go to report with the line
 * of the directive; returns -EINVAL if there were any. */
int nacct_config_check_files(const NacctConfig *c, NacctConfigReport *report);

/* Open path for appending (O_CREAT), without blocking on a FIFO and only if it is a regular
 * file: -EISDIR for a directory, -ENOTREG... see nacct_strerror_file(). */
int nacct_open_regular(const char *path, int flags, int *ret_fd);
#define NACCT_ENOTREG EMEDIUMTYPE /* our code for "not a regular file" */
/* strerror(), except that NACCT_ENOTREG reads "Not a regular file". */
const char *nacct_strerror_file(int r);

/* True if name matches an entry of a list of names and globs (fnmatch). */
bool nacct_name_matches(char *const *patterns, size_t n, const char *name);

/* Whether packets on an interface of this name are accounted (notdev, iflimit). */
bool nacct_config_accounts_interface(const NacctConfig *c, const char *ifname);
/* Whether the interface is to be put into promiscuous mode (device). */
bool nacct_config_promisc_interface(const NacctConfig *c, const char *ifname);
/* The tty line of `line` for an interface, or NULL. */
const char *nacct_config_line_for(const NacctConfig *c, const char *ifname);
