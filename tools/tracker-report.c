/* tracker-report.c - which tracked programs are used, by whom, and which are not. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "state.h"
#include "trackerd-store.h"

#include "tracker-report-output.h"
#include "tracker-report-query.h"

#define EXIT_USAGE 2
#define TRACKED_FILES_MAX 64

static const char *arg_db;
static ReportFormat arg_format = REPORT_FORMAT_TABLE;
static const char *arg_since;
static const char *arg_until;
static const char *arg_host;
static uint64_t arg_days;
static bool arg_days_set;
static const char *arg_tracked[TRACKED_FILES_MAX];
static size_t arg_n_tracked;

static void help(void)
{
        printf("Usage: tracker-report [OPTION]... [COMMAND]\n\n"
               "Answers questions from the database of trackerd(8). See tracker-report(1).\n\n"
               "Commands:\n"
               "  programs             runs, users, hosts, first and last use per program\n"
               "                       (the default)\n"
               "  users [PROGRAM]      runs, programs, hosts, first and last use per user;\n"
               "                       with PROGRAM: the users of that program\n"
               "  daily PROGRAM        runs, users and hosts per day for one program\n"
               "  unused               programs not used since a day (--since or --days)\n"
               "  rejects              bad datagrams per reason\n\n"
               "Options:\n"
               "  -h --help            show this help\n"
               "     --version         show the version\n"
               "  -d --db=PATH         database (default $STATE_DIRECTORY/tracker.db, else %s)\n"
               "     --json            write JSON: an array of objects\n"
               "     --csv             write CSV (RFC 4180) with a header line\n"
               "  -s --since=DATE      count from DATE (YYYY-MM-DD) on; for unused: list the\n"
               "                       programs not run on or after DATE\n"
               "  -u --until=DATE      count up to and including DATE\n"
               "     --host=HOST       count only the uses on HOST (programs, users, daily)\n"
               "     --days=N          for unused: list the programs last run more than N days\n"
               "                       ago\n"
               "  -t --tracked=FILE    for unused: also list the programs named in FILE (one\n"
               "                       name or path a line, as in tracked.d/*.list) that never\n"
               "                       ran, and show listed programs by path; may be repeated\n",
               TRACKER_DB_DEFAULT);
}

static int parse_date(const char *option, const char *s, const char **ret)
{
        if (!report_date_is_valid(s))
                return log_error_errno(EINVAL, "Invalid date '%s' for %s: expected YYYY-MM-DD.", s,
                                       option);
        *ret = s;
        return 0;
}

/* 1 to go on, 0 to exit successfully (--help, --version), -errno on a usage error. */
static int parse_argv(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100, ARG_JSON, ARG_CSV, ARG_DAYS, ARG_HOST };
        /* clang-format off */
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"db", required_argument, NULL, 'd'},
                {"json", no_argument, NULL, ARG_JSON},
                {"csv", no_argument, NULL, ARG_CSV},
                {"since", required_argument, NULL, 's'},
                {"until", required_argument, NULL, 'u'},
                {"days", required_argument, NULL, ARG_DAYS},
                {"host", required_argument, NULL, ARG_HOST},
                {"tracked", required_argument, NULL, 't'},
                {}
        };
        /* clang-format on */
        bool json = false, csv = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "hd:s:u:t:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("tracker-report (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                case 'd':
                        arg_db = optarg;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case ARG_CSV:
                        csv = true;
                        break;
                case 's':
                        r = parse_date("--since", optarg, &arg_since);
                        if (r < 0)
                                return r;
                        break;
                case 'u':
                        r = parse_date("--until", optarg, &arg_until);
                        if (r < 0)
                                return r;
                        break;
                case ARG_DAYS:
                        if (parse_uint64(optarg, &arg_days) < 0 || arg_days > REPORT_DAYS_MAX)
                                return log_error_errno(EINVAL,
                                                       "Invalid --days '%s': expected 0..%d.",
                                                       optarg, REPORT_DAYS_MAX);
                        arg_days_set = true;
                        break;
                case ARG_HOST:
                        if (isempty(optarg))
                                return log_error_errno(EINVAL, "--host needs a host name.");
                        arg_host = optarg;
                        break;
                case 't':
                        if (arg_n_tracked >= TRACKED_FILES_MAX)
                                return log_error_errno(E2BIG, "More than %d --tracked files.",
                                                       TRACKED_FILES_MAX);
                        arg_tracked[arg_n_tracked++] = optarg;
                        break;
                default:
                        return log_error_errno(EINVAL, "See --help.");
                }
        if (json && csv)
                return log_error_errno(EINVAL, "--json and --csv cannot be combined.");
        arg_format = json ? REPORT_FORMAT_JSON : csv ? REPORT_FORMAT_CSV : REPORT_FORMAT_TABLE;
        return 1;
}

/* The command and its argument from what getopt left over, and the options it takes. */
static int parse_command(char **args, size_t n_args, ReportKind *ret_kind, const char **ret_program)
{
        const char *name = n_args > 0 ? args[0] : "programs";
        const char *program = NULL;
        size_t n_want;
        int k;

        k = report_kind_from_string(name);
        if (k < 0)
                return log_error_errno(EINVAL, "Unknown command '%s'. See --help.", name);
        n_want = k == REPORT_DAILY || k == REPORT_USERS ? 2 : 1;
        if (k == REPORT_DAILY && n_args < 2)
                return log_error_errno(EINVAL, "daily needs the name of a program.");
        if (n_args > n_want)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", args[n_want]);
        if (n_args == 2) {
                /* A path counts as its base name, as in --tracked files. */
                program = strrchr(args[1], '/') ? strrchr(args[1], '/') + 1 : args[1];
                if (isempty(program))
                        return log_error_errno(EINVAL, "'%s' is not a program name.", args[1]);
        }

        if (k != REPORT_UNUSED && (arg_days_set || arg_n_tracked > 0))
                return log_error_errno(EINVAL, "--days and --tracked only apply to unused.");
        if (k == REPORT_REJECTS && (arg_since || arg_until))
                return log_error_errno(EINVAL, "--since and --until do not apply to rejects.");
        if ((k == REPORT_REJECTS || k == REPORT_UNUSED) && arg_host)
                return log_error_errno(EINVAL, "--host does not apply to %s.", name);
        if (k == REPORT_UNUSED) {
                if (arg_until)
                        return log_error_errno(EINVAL, "--until does not apply to unused.");
                if (arg_since && arg_days_set)
                        return log_error_errno(EINVAL, "--since and --days cannot be combined.");
                if (!arg_since && !arg_days_set)
                        return log_error_errno(EINVAL, "unused needs --since or --days.");
        }
        if (arg_since && arg_until && strcmp(arg_since, arg_until) > 0)
                return log_error_errno(EINVAL, "--since %s is after --until %s.", arg_since,
                                       arg_until);
        *ret_kind = (ReportKind)k;
        *ret_program = program;
        return 0;
}

static int open_db(const char *path, sqlite3 **ret)
{
        struct stat st;
        int r;

        /* Before anything opens it: a FIFO would hold open() or SQLite's first read. */
        if (state_path_not_regular(path))
                return log_error_errno(EINVAL, "'%s' is %s, not a tracker database.", path,
                                       state_path_not_regular(path));
        r = state_open(path, true, trackerd_store_migrations, trackerd_store_n_migrations, ret);
        if (r < 0 && r != -EPROTO && r != -EPROTONOSUPPORT && r != -EUCLEAN) {
                /* SQLite says "cannot open" or "I/O error" whatever the reason; ask the file
                 * system which one it was. */
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

                if (fd < 0)
                        r = negative_errno();
                else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
                        r = -EISDIR;
                else if (r == -ENOENT || r == -EACCES || r == -EPERM)
                        /* A WAL database needs its -wal and -shm files, which only a user that
                         * may write the directory can create when trackerd is not running. */
                        return log_error_errno(r,
                                               "Cannot read database '%s' although the file "
                                               "is readable: its -wal and -shm files cannot "
                                               "be opened or created by this user; run as "
                                               "root or as the owner of the database.",
                                               path);
        }
        switch (r) {
        case 0:
                return 0;
        case -ENOENT:
                return log_error_errno(r, "No database at '%s' (is trackerd running?).", path);
        case -EACCES:
        case -EPERM:
                return log_error_errno(r, "Permission denied reading database '%s'.", path);
        case -EPROTO:
                return log_error_errno(r,
                                       "Database '%s' has a schema older than this tool; start "
                                       "trackerd once to upgrade it.",
                                       path);
        case -EPROTONOSUPPORT:
                return log_error_errno(r,
                                       "Database '%s' has a schema newer than this tool; "
                                       "update tracker-report.",
                                       path);
        case -EUCLEAN:
                return log_error_errno(r, "'%s' is not a tracker database, or it is corrupt.",
                                       path);
        default:
                return log_error_errno(r, "Failed to open database '%s': %m", path);
        }
}

static int load_tracked(ReportNames *names)
{
        unsigned line;
        int r;

        for (size_t i = 0; i < arg_n_tracked; i++) {
                r = report_names_load(names, arg_tracked[i], &line);
                if (r == -EINVAL && line > 0)
                        return log_error_errno(r, "%s:%u: not a program name or path.",
                                               arg_tracked[i], line);
                if (r == -EFBIG)
                        return log_error_errno(r, "'%s' is too large for a --tracked file.",
                                               arg_tracked[i]);
                if (r < 0)
                        return log_error_errno(r, "Failed to read '%s': %m", arg_tracked[i]);
        }
        report_names_sort(names);
        return 0;
}

static int run(int argc, char **argv)
{
        _cleanup_db_ sqlite3 *db = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_names_ ReportNames tracked = {};
        _cleanup_rows_ ReportRows rows = {};
        char before[REPORT_DATE_LEN + 1];
        ReportFilter filter = {};
        ReportKind kind = REPORT_PROGRAMS;
        int r;

        log_setup("tracker");
        (void)setlocale(LC_CTYPE, "");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        r = parse_command(argv + optind, (size_t)(argc - optind), &kind, &filter.program);
        if (r < 0)
                return EXIT_USAGE;
        if (kind == REPORT_USERS)
                filter.user_program = TAKE_PTR(filter.program);

        filter.since = arg_since;
        filter.until = arg_until;
        filter.host = arg_host;
        if (kind == REPORT_UNUSED) {
                if (arg_days_set) {
                        r = report_date_days_before(time(NULL), arg_days, before);
                        if (r < 0) {
                                log_error_errno(r, "Cannot compute the day %llu days ago: %m",
                                                (unsigned long long)arg_days);
                                return EXIT_USAGE;
                        }
                        filter.before = before;
                } else
                        filter.before = arg_since;
                filter.since = NULL;
                if (load_tracked(&tracked) < 0)
                        return EXIT_FAILURE;
                filter.tracked = tracked.names;
                filter.n_tracked = tracked.n;
                if (tracked.paths) {
                        filter.tracked_paths = tracked.paths->names;
                        filter.n_tracked_paths = tracked.paths->n;
                }
        }

        path = state_path(arg_db, "tracker.db", TRACKER_DB_DEFAULT);
        if (!path) {
                log_error_errno(ENOMEM, "Out of memory.");
                return EXIT_FAILURE;
        }
        if (open_db(path, &db) < 0)
                return EXIT_FAILURE;
        r = report_query(db, kind, &filter, &rows);
        if (r < 0) {
                log_error_errno(r, "Failed to query database '%s': %m", path);
                return EXIT_FAILURE;
        }
        r = report_output(stdout, arg_format, kind, &rows);
        if (r >= 0 && fflush(stdout) != 0)
                r = negative_errno();
        if (r < 0) {
                log_error_errno(r, "Failed to write the report: %m");
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
        return run(argc, argv);
}
