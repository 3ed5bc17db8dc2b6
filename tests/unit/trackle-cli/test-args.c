/* test-args.c - trackle's command line. */
#include <errno.h>
#include <stdarg.h>

#include "test.h"
#include "trackle-args.h"

static int parse(TrackleArgs *a, ...)
{
        char *argv[16];
        va_list ap;
        int argc = 0;

        va_start(ap, a);
        argv[argc++] = (char *)"trackle";
        for (char *s; (s = va_arg(ap, char *));)
                argv[argc++] = s;
        va_end(ap);
        argv[argc] = NULL;
        return trackle_args_parse(argc, argv, a);
}

int main(void)
{
        TrackleArgs a;

        ASSERT_EQ_INT(parse(&a, "--help", NULL), 0);
        ASSERT_EQ_INT(a.action, TRACKLE_ACTION_HELP);
        ASSERT_EQ_INT(parse(&a, "--version", NULL), 0);
        ASSERT_EQ_INT(a.action, TRACKLE_ACTION_VERSION);
        ASSERT_EQ_INT(parse(&a, NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "frob", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "ticket", "frob", NULL), -EINVAL);

        ASSERT_EQ_INT(
                parse(&a, "ticket", "new", "--summary", "disk full", "--description", "d", NULL),
                0);
        ASSERT_EQ_INT(a.verb, TRACKLE_VERB_TICKET_NEW);
        ASSERT_STREQ(a.summary, "disk full");
        ASSERT_STREQ(a.description, "d");
        ASSERT_EQ_INT(parse(&a, "ticket", "new", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "ticket", "new", "--summary", "x", "extra", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "ticket", "new", "--summary", "x", "--json", NULL), -EINVAL);

        ASSERT_EQ_INT(parse(&a, "ticket", "list", "--json", NULL), 0);
        ASSERT_EQ_INT(a.verb, TRACKLE_VERB_TICKET_LIST);
        ASSERT_TRUE(a.json);
        ASSERT_EQ_INT(parse(&a, "ticket", "show", "12", "--json", NULL), 0);
        ASSERT_EQ_INT(a.id, 12);
        ASSERT_TRUE(a.json);
        ASSERT_EQ_INT(parse(&a, "ticket", "show", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "ticket", "show", "0", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "ticket", "show", "012", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "ticket", "show", "-3", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "ticket", "show", "12x", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "ticket", "show", "--help", NULL), 0);
        ASSERT_EQ_INT(a.action, TRACKLE_ACTION_HELP);
        ASSERT_EQ_INT(a.verb, TRACKLE_VERB_TICKET_SHOW);

        ASSERT_EQ_INT(parse(&a, "shell", NULL), 0);
        ASSERT_EQ_INT(a.verb, TRACKLE_VERB_SHELL);
        ASSERT_TRUE(!a.has_ticket && !a.command && !a.keyed && a.keyed_fd == -1);
        ASSERT_EQ_INT(parse(&a, "shell", "12", "-c", "echo hi; false", "--preload",
                            "/b/libtrackle.so", "--steal", NULL),
                      0);
        ASSERT_TRUE(a.has_ticket);
        ASSERT_EQ_INT(a.ticket, 12);
        ASSERT_STREQ(a.command, "echo hi; false");
        ASSERT_STREQ(a.preload, "/b/libtrackle.so");
        ASSERT_TRUE(a.steal);
        ASSERT_EQ_INT(parse(&a, "shell", "--keyed=5", "--command=ls", "7", NULL), 0);
        ASSERT_TRUE(a.keyed);
        ASSERT_EQ_INT(a.keyed_fd, 5);
        ASSERT_STREQ(a.command, "ls");
        ASSERT_EQ_INT(parse(&a, "shell", "--keyed", NULL), 0);
        ASSERT_TRUE(a.keyed);
        ASSERT_EQ_INT(a.keyed_fd, -1);
        ASSERT_EQ_INT(parse(&a, "shell", "--keyed=1", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "shell", "1", "2", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "shell", "-c", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "shell", "--json", NULL), -EINVAL);

        ASSERT_EQ_INT(parse(&a, "session", "list", "--ticket", "3", "--json", NULL), 0);
        ASSERT_EQ_INT(a.verb, TRACKLE_VERB_SESSION_LIST);
        ASSERT_TRUE(a.has_ticket && a.json);
        ASSERT_EQ_INT(a.ticket, 3);
        ASSERT_EQ_INT(parse(&a, "session", "show", "7", NULL), 0);
        ASSERT_EQ_INT(a.id, 7);
        ASSERT_TRUE(!a.json);
        ASSERT_EQ_INT(parse(&a, "session", "diff", "7", "/etc/hosts", "--color=always", NULL), 0);
        ASSERT_STREQ(a.path, "/etc/hosts");
        ASSERT_EQ_INT(a.color, TRACKLE_COLOR_ALWAYS);
        ASSERT_EQ_INT(parse(&a, "session", "diff", "7", NULL), 0);
        ASSERT_TRUE(a.path == NULL);
        ASSERT_EQ_INT(a.color, TRACKLE_COLOR_AUTO);
        ASSERT_EQ_INT(parse(&a, "session", "diff", "7", "--color=sometimes", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "session", "diff", "7", "a", "b", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "session", "files", "7", "--hide", "/etc/x", NULL), 0);
        ASSERT_STREQ(a.path, "/etc/x");
        ASSERT_TRUE(!a.shown);
        ASSERT_EQ_INT(parse(&a, "session", "files", "7", "--show", "/etc/x", NULL), 0);
        ASSERT_TRUE(a.shown);
        ASSERT_EQ_INT(parse(&a, "session", "files", "7", NULL), -EINVAL);
        ASSERT_EQ_INT(parse(&a, "session", "files", "7", "--show", "a", "--hide", "b", NULL),
                      -EINVAL);
        ASSERT_EQ_INT(parse(&a, "session", "--help", NULL), 0);
        ASSERT_EQ_INT(a.action, TRACKLE_ACTION_HELP);
        ASSERT_STREQ(a.group, "session");
        ASSERT_TRUE(strstr(trackle_help_text(TRACKLE_VERB_SHELL, NULL), "libtrackle.so") != NULL);
        return test_result();
}
