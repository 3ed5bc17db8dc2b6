/* test-conf.c - the INI parser: values, comments, and file:line errors for every mistake. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "test.h"

typedef struct Demo {
        char *name;
        bool flag;
        uint64_t count;
        uint64_t span;
} Demo;

static const ConfItem items[] = {
        {"Main", "Name", conf_parse_string, offsetof(Demo, name)},
        {"Main", "Flag", conf_parse_bool, offsetof(Demo, flag)},
        {"Main", "Count", conf_parse_uint64, offsetof(Demo, count)},
        {"Other", "Span", conf_parse_timespan_sec, offsetof(Demo, span)},
};

static char warnings[16][CONF_MESSAGE_MAX];
static unsigned warning_lines[16], n_warnings;

static void collect(const char *file, unsigned line, const char *message, void *userdata)
{
        if (n_warnings < 16) {
                snprintf(warnings[n_warnings], sizeof(warnings[0]), "%s", message);
                warning_lines[n_warnings] = line;
        }
        n_warnings++;
}

static int parse(const char *text, Demo *d, ConfError *err)
{
        char *copy = strdup(text);
        int r;

        *d = (Demo){};
        r = conf_parse_text("demo.conf", copy, items, sizeof(items) / sizeof(items[0]), d, err);
        free(copy);
        return r;
}

static void expect_error(const char *text, unsigned line, const char *needle)
{
        ConfError err;
        Demo d;

        ASSERT_EQ_INT(parse(text, &d, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, line);
        ASSERT_STREQ(err.file, "demo.conf");
        if (!strstr(err.message, needle))
                TEST_FAIL("error '%s' does not mention '%s'", err.message, needle);
        free(d.name);
}

static void test_good(void)
{
        ConfError err;
        Demo d;

        ASSERT_EQ_INT(parse("# comment\n"
                            "; another\n"
                            "\n"
                            "[Main]\n"
                            "  Name =  some value with spaces  \r\n"
                            "Flag=yes\n"
                            "Count=42\n"
                            "Name=last wins\n"
                            "[Other]\n"
                            "Span=1h 30min\n",
                            &d, &err),
                      0);
        ASSERT_STREQ(d.name, "last wins");
        ASSERT_TRUE(d.flag);
        ASSERT_EQ_INT(d.count, 42);
        ASSERT_EQ_INT(d.span, 5400);
        free(d.name);

        ASSERT_EQ_INT(parse("", &d, &err), 0);
        ASSERT_EQ_INT(parse("[Main]\nName=\n", &d, &err), 0);
        ASSERT_STREQ(d.name, "");
        free(d.name);
}

static void test_errors(void)
{
        expect_error("Name=x\n", 1, "outside of any [Section]");
        expect_error("[Main]\n[Nope]\n", 2, "unknown section [Nope]");
        expect_error("[Main]\nName=x\nColour=blue\n", 3, "unknown key 'Colour'");
        expect_error("[Main]\nthis is not a setting\n", 2, "expected Key=Value");
        expect_error("[Main]\n=value\n", 2, "missing key");
        expect_error("[Main\n", 1, "invalid section header");
        expect_error("[]\n", 1, "invalid section header");
        expect_error("[Main]\nFlag=maybe\n", 2, "expected yes or no");
        expect_error("[Main]\nCount=-3\n", 2, "non-negative integer");
        expect_error("[Main]\nCount=99999999999999999999999\n", 2, "out of range");
        expect_error("[Other]\nSpan=soon\n", 2, "time span");
        expect_error("[Main]\nName=\xff\xfe\n", 0, "UTF-8");
        /* Span belongs to [Other]: a key in the wrong section is unknown there. */
        expect_error("[Main]\nSpan=1s\n", 2, "unknown key 'Span'");
}

static void test_file(void)
{
        char dir[] = "/tmp/test-conf-XXXXXX", path[64];
        ConfError err = {};
        Demo d = {};
        int fd;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof(path), "%s/x.conf", dir);
        ASSERT_EQ_INT(conf_parse_file(path, items, 4, &d, &err), -ENOENT);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ_INT(write(fd, "[Main]\nCount=7\nFlag=bogus\n", 26), 26);
        close(fd);
        ASSERT_EQ_INT(conf_parse_file(path, items, 4, &d, &err), -EINVAL);
        ASSERT_STREQ(err.file, path);
        ASSERT_EQ_INT(err.line, 3);

        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        ASSERT_EQ_INT(write(fd, "[Main]\nCo\0unt=7\n", 16), 16);
        close(fd);
        ASSERT_EQ_INT(conf_parse_file(path, items, 4, &d, &err), -EINVAL);
        ASSERT_TRUE(strstr(err.message, "NUL") != NULL);

        /* A directory is not a configuration file. */
        ASSERT_EQ_INT(conf_parse_file(dir, items, 4, &d, &err), -EINVAL);
        ASSERT_TRUE(strstr(err.message, "not a regular file") != NULL);

        unlink(path);
        rmdir(dir);
        free(d.name);
}

/* Neither parser waits on a FIFO without a writer, a FIFO with a writer that never writes,
 * or a device; each is refused as not a regular file. SIGALRM ends the test if one hangs. */
static void test_not_regular(void)
{
        char dir[] = "/tmp/test-conf-XXXXXX", fifo[64];
        const char *devices[] = {"/dev/null", "/dev/zero", "/dev/tty"};
        Demo d = {};
        int wfd;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
        ASSERT_EQ_INT(mkfifo(fifo, 0600), 0);
        alarm(10);
        for (int writer = 0; writer < 2; writer++) {
                ConfError err = {};

                wfd = writer ? open(fifo, O_RDWR | O_CLOEXEC) : -1;
                ASSERT_EQ_INT(conf_parse_file(fifo, items, 4, &d, &err), -EINVAL);
                ASSERT_TRUE(strstr(err.message, "a FIFO") != NULL);
                ASSERT_STREQ(err.file, fifo);
                ASSERT_EQ_INT(conf_parse_file_lenient(fifo, items, 4, &d, collect, NULL, &err),
                              -EINVAL);
                if (wfd >= 0)
                        close(wfd);
        }
        for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
                ConfError err = {};
                int r = conf_parse_file(devices[i], items, 4, &d, &err);

                if (r == -ENXIO || r == -ENOENT || r == -EACCES)
                        continue; /* no controlling terminal here */
                ASSERT_EQ_INT(r, -EINVAL);
                ASSERT_TRUE(strstr(err.message, "a device") != NULL);
        }
        alarm(0);
        unlink(fifo);
        rmdir(dir);
}

/* The lenient parser warns about every problem with its line and keeps the good values. */
static void test_lenient(void)
{
        char text[] = "[Main]\n"
                      "Count=7\n"
                      "Flag=bogus\n"
                      "Colour=blue\n"
                      "Name=kept\n"
                      "no equals sign\n"
                      "[Nope]\n"
                      "Anything=1\n"
                      "[broken\n"
                      "Count=8\n"
                      "[Other]\n"
                      "Span=soon\n"
                      "=3\n";
        ConfError err = {};
        Demo d = {.flag = true};

        n_warnings = 0;
        ASSERT_EQ_INT(conf_parse_text_lenient("l.conf", text, items, 4, &d, collect, NULL, &err),
                      7);
        ASSERT_EQ_INT(n_warnings, 7);
        ASSERT_EQ_INT(warning_lines[0], 3);
        ASSERT_TRUE(strstr(warnings[0], "Flag=") != NULL);
        ASSERT_EQ_INT(warning_lines[1], 4);
        ASSERT_TRUE(strstr(warnings[1], "Colour") != NULL);
        ASSERT_EQ_INT(warning_lines[2], 6);
        ASSERT_EQ_INT(warning_lines[3], 7);
        ASSERT_EQ_INT(warning_lines[4], 9);
        ASSERT_EQ_INT(warning_lines[5], 12);
        ASSERT_EQ_INT(warning_lines[6], 13);
        for (unsigned i = 0; i < n_warnings; i++)
                ASSERT_TRUE(strstr(warnings[i], "ignoring") != NULL);
        ASSERT_EQ_INT(d.count, 7); /* line 10 is in the broken section */
        ASSERT_TRUE(d.flag);       /* the bad value left the old one */
        ASSERT_STREQ(d.name, "kept");
        ASSERT_EQ_INT(d.span, 0);
        free(d.name);
}

int main(void)
{
        test_good();
        test_errors();
        test_file();
        test_not_regular();
        test_lenient();
        return test_result();
}
