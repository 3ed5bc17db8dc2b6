/* nacct-report.c - the back end net-acct never had: who and what used the network, when. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "state.h"
#include "utf8.h"

#include "nacctd-store.h"

#include "nacct-report-output.h"
#include "nacct-report-query.h"

#ifndef NACCTD_DB_DEFAULT
#define NACCTD_DB_DEFAULT "/var/lib/tracksuite/nacct/nacct.db"
#endif
#define EXIT_USAGE 2

static const char *arg_db;
static const char *arg_output;
static const char *arg_since;
static const char *arg_until;
static uint64_t arg_days;
static bool arg_days_set;
static int64_t arg_top = 10;
static int arg_by = -1;
static NrFormat arg_format = NR_FORMAT_TABLE;
static bool arg_bits;

static void help(void)
{
        printf("Usage: nacct-report [OPTION]... [COMMAND [ARGUMENT]]\n\n"
               "Answers questions from the database of nacctd(8). See nacct-report(1).\n\n"
               "Commands:\n"
               "  hosts                top hosts by traffic (the default)\n"
               "  users                top users (dynamicip, line)\n"
               "  ports                top ports (the lower port of each flow)\n"
               "  protocols            top IP protocols\n"
               "  interfaces           top interfaces\n"
               "  daily                total traffic per day\n"
               "  monthly              total traffic per month\n"
               "  timeline             total traffic over time (see --by)\n"
               "  host ADDRESS         one host's traffic over time, in and out\n"
               "  user NAME            one user's traffic over time, in and out\n\n"
               "Options:\n"
               "  -h --help            show this help\n"
               "     --version         show the version\n"
               "  -d --db=PATH         database (default $STATE_DIRECTORY/nacct.db, else %s)\n"
               "  -s --since=DATE      count from DATE (YYYY-MM-DD, local time) on\n"
               "  -u --until=DATE      count up to and including DATE\n"
               "     --days=N          the last N days, today included\n"
               "  -n --top=N           at most N rows for the top lists (default 10, 0: all)\n"
               "     --by=hour|day|month  time buckets of timeline, host and user (default day)\n"
               "     --json            write JSON: an array of objects\n"
               "     --csv             write CSV (RFC 4180) with a header line\n"
               "     --svg             draw a bar chart of a time series as SVG\n"
               "     --bits            with --svg: average bit/s per bucket instead of bytes\n"
               "  -o --output=FILE     write to FILE instead of standard output\n",
               NACCTD_DB_DEFAULT);
}

static int parse_argv(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100, ARG_JSON, ARG_CSV, ARG_SVG, ARG_DAYS, ARG_BY, ARG_BITS };
        /* clang-format off */
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"db", required_argument, NULL, 'd'},
                {"since", required_argument, NULL, 's'},
                {"until", required_argument, NULL, 'u'},
                {"days", required_argument, NULL, ARG_DAYS},
                {"top", required_argument, NULL, 'n'},
                {"by", required_argument, NULL, ARG_BY},
                {"json", no_argument, NULL, ARG_JSON},
                {"csv", no_argument, NULL, ARG_CSV},
                {"svg", no_argument, NULL, ARG_SVG},
                {"bits", no_argument, NULL, ARG_BITS},
                {"output", required_argument, NULL, 'o'},
                {}
        };
        /* clang-format on */
        int formats = 0, c;
        uint64_t v;

        while ((c = getopt_long(argc, argv, "hd:s:u:n:o:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("nacct-report (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                case 'd':
                        arg_db = optarg;
                        break;
                case 's':
                        arg_since = optarg;
                        break;
                case 'u':
                        arg_until = optarg;
                        break;
                case ARG_DAYS:
                        if (parse_uint64(optarg, &arg_days) < 0 || arg_days < 1 ||
                            arg_days > 100000)
                                return log_error_errno(EINVAL, "Invalid --days '%s'.", optarg);
                        arg_days_set = true;
                        break;
                case 'n':
                        if (parse_uint64(optarg, &v) < 0 || v > 1000000000)
                                return log_error_errno(EINVAL, "Invalid --top '%s'.", optarg);
                        arg_top = (int64_t)v;
                        break;
                case ARG_BY:
                        arg_by = nr_bucket_from_string(optarg);
                        if (arg_by < 0)
                                return log_error_errno(EINVAL,
                                                       "Invalid --by '%s': expected hour, "
                                                       "day or month.",
                                                       optarg);
                        break;
                case ARG_JSON:
                        arg_format = NR_FORMAT_JSON;
                        formats++;
                        break;
                case ARG_CSV:
                        arg_format = NR_FORMAT_CSV;
                        formats++;
                        break;
                case ARG_SVG:
                        arg_format = NR_FORMAT_SVG;
                        formats++;
                        break;
                case ARG_BITS:
                        arg_bits = true;
                        break;
                case 'o':
                        arg_output = optarg;
                        break;
                default:
                        return log_error_errno(EINVAL, "See --help.");
                }
        if (formats > 1)
                return log_error_errno(EINVAL, "--json, --csv and --svg cannot be combined.");
        if (arg_bits && arg_format != NR_FORMAT_SVG)
                return log_error_errno(EINVAL, "--bits is for --svg charts.");
        if (arg_days_set && (arg_since || arg_until))
                return log_error_errno(EINVAL, "--days cannot be combined with --since/--until.");
        return 1;
}

static int period(NrFilter *f)
{
        int64_t t;

        f->since = INT64_MIN;
        f->until = INT64_MAX;
        if (arg_since) {
                if (nr_parse_date(arg_since, &t) < 0)
                        return log_error_errno(EINVAL, "Invalid --since '%s': expected YYYY-MM-DD.",
                                               arg_since);
                f->since = t;
        }
        if (arg_until) {
                struct tm tm;
                time_t tt;

                if (nr_parse_date(arg_until, &t) < 0)
                        return log_error_errno(EINVAL, "Invalid --until '%s': expected YYYY-MM-DD.",
                                               arg_until);
                /* The next local midnight (a day may be 23 or 25 hours long). */
                tt = (time_t)t;
                localtime_r(&tt, &tm);
                tm.tm_mday++;
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                tm.tm_isdst = -1;
                f->until = (int64_t)mktime(&tm);
        }
        if (arg_days_set) {
                time_t now = time(NULL);
                struct tm tm;

                localtime_r(&now, &tm);
                tm.tm_mday -= (int)arg_days - 1;
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                tm.tm_isdst = -1;
                f->since = (int64_t)mktime(&tm);
        }
        if (f->since >= f->until)
                return log_error_errno(EINVAL, "The period is empty: --since is after --until.");
        return 0;
}

static void make_title(NrKind kind, const NrFilter *f, char *buf, size_t size)
{
        static const char *const by[] = {"hour", "day", "month"};
        char from[16] = "", to[16] = "";

        if (arg_days_set)
                snprintf(from, sizeof(from), "last %" PRIu64 " days", arg_days);
        else {
                snprintf(from, sizeof(from), "%s", arg_since ?: "start");
                snprintf(to, sizeof(to), "%s", arg_until ?: "now");
        }
        switch (kind) {
        case NR_HOST:
        case NR_USER:
                snprintf(buf, size, "Traffic of %s %s by %s, %s%s%s",
                         kind == NR_HOST ? "host" : "user", f->subject, by[f->by], from,
                         to[0] ? " to " : "", to);
                break;
        case NR_DAILY:
        case NR_MONTHLY:
                snprintf(buf, size, "Traffic per %s, %s%s%s", kind == NR_DAILY ? "day" : "month",
                         from, to[0] ? " to " : "", to);
                break;
        default:
                snprintf(buf, size, "Traffic by %s, %s%s%s", by[f->by], from, to[0] ? " to " : "",
                         to);
                break;
        }
}

static int open_database(const char *path, sqlite3 **ret);

static int run(int argc, char **argv)
{
        _cleanup_db_ sqlite3 *db = NULL;
        _cleanup_nr_rows_ NrRows rows = {};
        _cleanup_free_ char *path = NULL;
        char host[64], title[256];
        NrFilter f = {.top = 0};
        const char *cmd;
        FILE *out = stdout;
        NrKind kind;
        int r, k;

        log_setup("nacct");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        cmd = optind < argc ? argv[optind++] : "hosts";
        k = nr_kind_from_string(cmd);
        if (k < 0)
                return log_error_errno(EINVAL, "Unknown command '%s'. See --help.", cmd);
        kind = (NrKind)k;
        if (kind == NR_HOST || kind == NR_USER) {
                if (optind >= argc)
                        return log_error_errno(EINVAL, "'%s' needs an argument.", cmd);
                f.subject = argv[optind++];
                if (kind == NR_HOST) {
                        if (nr_normalize_host(f.subject, host, sizeof(host)) < 0)
                                return log_error_errno(EINVAL, "'%s' is not an IP address.",
                                                       f.subject);
                        f.subject = host;
                } else if (!utf8_is_printable_n(f.subject, strlen(f.subject)))
                        return log_error_errno(EINVAL, "Invalid user name.");
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        if (arg_format == NR_FORMAT_SVG && !nr_kind_is_series(kind))
                return log_error_errno(EINVAL, "--svg draws time series: daily, monthly, "
                                               "timeline, host or user.");
        r = period(&f);
        if (r < 0)
                return r;
        f.top = nr_kind_is_series(kind) ? 0 : arg_top;
        f.by = arg_by >= 0 ? (NrBucket)arg_by : NR_BY_DAY;

        path = state_path(arg_db, "nacct.db", NACCTD_DB_DEFAULT);
        if (!path)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = open_database(path, &db);
        if (r < 0)
                return r;
        r = nr_query(db, kind, &f, &rows);
        if (r < 0)
                return log_error_errno(r, "Query failed: %m");

        if (arg_output) {
                out = fopen(arg_output, "we");
                if (!out)
                        return log_error_errno(errno, "Cannot write '%s': %m", arg_output);
        }
        make_title(kind, &f, title, sizeof(title));
        r = nr_output(out, arg_format, kind, &rows,
                      &(NrChart){.title = title, .by = f.by, .bits_per_second = arg_bits});
        if (fflush(out) != 0 && r >= 0)
                r = -errno;
        if (out != stdout && fclose(out) != 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Failed to write the report: %m");
        return 0;
}

/* The tables every nacct database has, whatever its schema version. */
static const char *const nacct_tables[] = {"settings",  "totals", "hosts",     "users",
                                           "protocols", "ports",  "interfaces"};

/* Open the database read-only, and say what is wrong in words an admin can act on: SQLite's
 * own codes become "Structure needs cleaning" or "Input/output error" for a file that is simply
 * not a nacct database, and "No such file" for a permission problem. */
static int open_database(const char *path, sqlite3 **ret)
{
        static const char magic[16] = "SQLite format 3";
        _cleanup_close_ int fd = -EBADF;
        _cleanup_db_ sqlite3 *db = NULL;
        char head[16];
        struct stat st;
        ssize_t n;
        int r, found = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == EACCES || errno == EPERM)
                        return log_error_errno(errno,
                                               "Permission denied reading '%s': run nacct-report "
                                               "as root (the database is private to nacctd) or "
                                               "pass a readable copy with --db.",
                                               path);
                if (errno == ENOENT)
                        return log_error_errno(errno,
                                               "'%s' does not exist: nacctd has not run yet, or "
                                               "its database is elsewhere (--db).",
                                               path);
                return log_error_errno(errno, "Cannot open '%s': %m", path);
        }
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot open '%s': %m", path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EBADMSG, "'%s' is not a nacct database: not a regular file.",
                                       path);
        n = pread(fd, head, sizeof(head), 0);
        if (n < 0)
                return log_error_errno(errno, "Cannot read '%s': %m", path);
        if (n == 0)
                return log_error_errno(EBADMSG, "'%s' is not a nacct database: the file is empty.",
                                       path);
        if ((size_t)n < sizeof(head) || memcmp(head, magic, sizeof(magic)) != 0)
                return log_error_errno(EBADMSG, "'%s' is not a nacct database: not an SQLite file.",
                                       path);

        /* An SQLite file: one of nacctd's? Look for its tables before trusting its version. */
        r = state_errno(
                sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL));
        if (r >= 0) {
                sqlite3_stmt *st_tables = NULL;

                r = state_errno(sqlite3_prepare_v2(db,
                                                   "SELECT name FROM sqlite_master "
                                                   "WHERE type = 'table'",
                                                   -1, &st_tables, NULL));
                while (r >= 0 && sqlite3_step(st_tables) == SQLITE_ROW) {
                        const char *name = (const char *)sqlite3_column_text(st_tables, 0);

                        for (size_t i = 0; name && i < ELEMENTSOF(nacct_tables); i++)
                                found += streq(name, nacct_tables[i]);
                }
                sqlite3_finalize(st_tables);
        }
        if (r == -EUCLEAN || r == -EIO)
                return log_error_errno(r,
                                       "'%s' is not a nacct database: an SQLite file, but "
                                       "damaged or unreadable (%s).",
                                       path, sqlite3_errmsg(db));
        if (r < 0)
                return log_error_errno(r, "Cannot open '%s': %m", path);
        if ((size_t)found != ELEMENTSOF(nacct_tables))
                return log_error_errno(EBADMSG,
                                       "'%s' is not a nacct database: an SQLite file without "
                                       "nacctd's tables.",
                                       path);
        sqlite3_close_v2(TAKE_PTR(db));

        r = state_open(path, true, nacct_store_migrations, nacct_store_n_migrations, ret);
        if (r == -EPROTONOSUPPORT)
                return log_error_errno(r, "'%s' was written by a newer nacctd.", path);
        if (r == -EPROTO)
                return log_error_errno(r,
                                       "'%s' has an older schema; nacctd upgrades it when it "
                                       "next starts.",
                                       path);
        if (r == -EACCES)
                return log_error_errno(r,
                                       "Permission denied reading '%s' (or its -wal/-shm "
                                       "files).",
                                       path);
        if (r < 0)
                return log_error_errno(r, "Cannot open '%s': %m", path);
        return 0;
}

int main(int argc, char **argv)
{
        int r = run(argc, argv);

        if (r == -EINVAL)
                return EXIT_USAGE;
        return r < 0 ? EXIT_FAILURE : 0;
}
