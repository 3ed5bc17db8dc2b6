/* trackle-admin-user.c - trackle-admin user add|passwd|del|list: the sysadmin accounts of the
 * web. The password goes to trackled (the only process that opens the database), which stores
 * a yescrypt hash of it; it is read from standard input, never from the command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "trackle-client.h"

#include "trackle-admin.h"

#define PASSWORD_MAX 1024

static const char user_help[] =
        "Usage: trackle-admin user add NAME --email ADDR --password-stdin\n"
        "       trackle-admin user passwd NAME --password-stdin\n"
        "       trackle-admin user del NAME\n"
        "       trackle-admin user list\n"
        "\n"
        "The sysadmin accounts of trackle's web (login at /login or POST /api/login).\n"
        "NAME is 1 to 64 of A-Z a-z 0-9 . _ - (not starting with - or .). The password is\n"
        "read from standard input (its first line, at most 1024 bytes, the line break not\n"
        "included) and stored by trackled as a yescrypt hash. del also ends the account's\n"
        "logins.\n";

/* The first line of stdin, without its line break. */
static int read_password(char *buf, size_t size)
{
        size_t n;

        if (!fgets(buf, (int)size, stdin))
                return ferror(stdin) ? -EIO : -ENODATA;
        n = strlen(buf);
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        else if (!feof(stdin))
                return -E2BIG;
        if (n > 0 && buf[n - 1] == '\r')
                buf[--n] = '\0';
        if (n == 0)
                return -ENODATA;
        return 0;
}

static int user_list(void)
{
        json_object *reply, *users;
        size_t n;

        if (admin_call(trackle_request_new("user.list"), "users", &reply, &users) < 0)
                return ADMIN_EXIT_FAILURE;
        n = json_object_is_type(users, json_type_array) ? json_object_array_length(users) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *u = json_object_array_get_idx(users, i), *v;
                const char *name = "", *email = "", *created = "";

                if (json_object_object_get_ex(u, "name", &v))
                        name = json_object_get_string(v);
                if (json_object_object_get_ex(u, "email", &v) && v)
                        email = json_object_get_string(v);
                if (json_object_object_get_ex(u, "created", &v))
                        created = json_object_get_string(v);
                printf("%-20s %-32s %s\n", name, email, created);
        }
        json_object_put(reply);
        if (fflush(stdout) != 0)
                return admin_fail("cannot write: %m");
        return ADMIN_EXIT_OK;
}

int admin_user_main(int argc, char **argv)
{
        enum { ARG_EMAIL = 0x100, ARG_PASSWORD_STDIN };
        static const struct option options[] = {
                {"email", required_argument, NULL, ARG_EMAIL},
                {"password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN},
                {"help", no_argument, NULL, 'h'},
                {}};
        char password[PASSWORD_MAX + 2];
        const char *verb, *name = NULL, *email = NULL;
        bool password_stdin = false;
        json_object *req;
        int c, r;

        if (admin_wants_help(argc, argv, user_help))
                return ADMIN_EXIT_OK;
        if (argc < 2)
                return admin_usage("user", "add, passwd, del or list is required");
        verb = argv[1];
        optind = 2;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(user_help, stdout);
                        return ADMIN_EXIT_OK;
                case ARG_EMAIL:
                        email = optarg;
                        break;
                case ARG_PASSWORD_STDIN:
                        password_stdin = true;
                        break;
                default:
                        return admin_usage("user", "unknown option '%s'", argv[optind - 1]);
                }
        if (optind < argc)
                name = argv[optind++];
        if (optind < argc)
                return admin_usage("user", "unexpected argument '%s'", argv[optind]);

        if (streq(verb, "list")) {
                if (name || email || password_stdin)
                        return admin_usage("user", "list takes no arguments");
                return user_list();
        }
        if (!streq(verb, "add") && !streq(verb, "passwd") && !streq(verb, "del"))
                return admin_usage("user", "unknown verb '%s'", verb);
        if (!name)
                return admin_usage("user", "%s needs a NAME", verb);
        if (streq(verb, "add") && !email)
                return admin_usage("user", "add needs --email ADDR");
        if (!streq(verb, "add") && email)
                return admin_usage("user", "--email is for add only");
        if (streq(verb, "del") && password_stdin)
                return admin_usage("user", "del takes no password");
        if (!streq(verb, "del") && !password_stdin)
                return admin_usage("user",
                                   "%s needs --password-stdin (a password is never "
                                   "taken from the command line)",
                                   verb);
        if (password_stdin) {
                r = read_password(password, sizeof(password));
                if (r == -E2BIG)
                        return admin_fail("the password is longer than %d bytes", PASSWORD_MAX);
                if (r < 0)
                        return admin_fail("no password on standard input");
        }
        req = admin_request(streq(verb, "add")      ? "user.add"
                            : streq(verb, "passwd") ? "user.passwd"
                                                    : "user.del",
                            "name", name, "email", email, "password",
                            password_stdin ? password : NULL, NULL);
        explicit_bzero(password, sizeof(password));
        r = admin_call_simple(req);
        return r < 0 ? ADMIN_EXIT_FAILURE : ADMIN_EXIT_OK;
}
