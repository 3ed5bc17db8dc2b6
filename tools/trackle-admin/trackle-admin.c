/* trackle-admin.c - trackle-admin(8): the run-time settings of trackle kept in trackled's
 * database. This file only dispatches: each subcommand lives in trackle-admin-NAME.c. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#include "trackle-admin.h"

/* One line per subcommand (see trackle-admin.h for how to add one). */
static const AdminCommand commands[] = {
        {"component", admin_enum_main, "list|add|rename|remove  values of the component field"},
        {"priority", admin_enum_main, "list|add|rename|remove  values of the priority field"},
        {"severity", admin_enum_main, "list|add|rename|remove  values of the severity field"},
        {"type", admin_enum_main, "list|add|rename|remove  values of the type field"},
        {"milestone", admin_milestone_main, "list|add|set|rename|remove  milestones"},
        {"wiki", admin_wiki_main, "list|export DIR|import DIR  wiki pages as files"},
        {"check", admin_check_main, "check the database's integrity"},
        {"backup", admin_backup_main, "FILE  write a consistent copy of the database"},
        {"user", admin_user_main, "add|passwd|del|list  sysadmin accounts of the web"},
        {},
};

static void help(void)
{
        printf("Usage: trackle-admin COMMAND [ARGS...]\n"
               "       trackle-admin COMMAND --help\n"
               "\n"
               "The run-time settings of trackle, through trackled (trackle-admin(8)).\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; commands[i].name; i++)
                printf("  %-28s %s\n", commands[i].name, commands[i].synopsis);
        printf("\n"
               "Options:\n"
               "  -h --help                    Show this help\n"
               "     --version                 Show the version\n"
               "\n"
               "Exit status: 0 success, 1 failure (the reason on stderr), 2 bad usage.\n");
}

int main(int argc, char **argv)
{
        setlocale(LC_ALL, "");
        if (argc < 2)
                return admin_usage(NULL, "a command is required");
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                help();
                return ADMIN_EXIT_OK;
        }
        if (streq(argv[1], "--version")) {
                printf("trackle-admin (tracksuite) %s\n", PROJECT_VERSION);
                return ADMIN_EXIT_OK;
        }
        for (size_t i = 0; commands[i].name; i++)
                if (streq(argv[1], commands[i].name))
                        return commands[i].main(argc - 1, argv + 1);
        return admin_usage(NULL, "unknown command '%s'", argv[1]);
}
