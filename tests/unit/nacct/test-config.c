/* test-config.c - naccttab: every directive with its meaning, the original's line syntax, and
 * every error with its line number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nacctd-config.h"
#include "test.h"

static NacctConfig *parse(const char *text, NacctConfigReport *rep)
{
        NacctConfig *c = NULL;
        int r;

        r = nacct_config_parse("test.tab", text, strlen(text), rep, &c);
        return r < 0 ? NULL : c;
}

/* Parse text that must fail with an error at line; the message must contain needle. */
static void expect_error(const char *text, unsigned line, const char *needle)
{
        NacctConfigReport rep;
        NacctConfig *c = parse(text, &rep);
        bool found = false;

        ASSERT_TRUE(c == NULL);
        nacct_config_free(c);
        for (size_t i = 0; i < rep.n; i++)
                if (rep.messages[i].severity == NACCT_CONFIG_ERROR &&
                    rep.messages[i].line == line && strstr(rep.messages[i].text, needle))
                        found = true;
        if (!found) {
                fprintf(stderr, "expected error at line %u containing '%s' for:\n%s\ngot:\n", line,
                        needle, text);
                for (size_t i = 0; i < rep.n; i++)
                        fprintf(stderr, "  %u: %s\n", rep.messages[i].line, rep.messages[i].text);
        }
        ASSERT_TRUE(found);
}

/* A line with a bad value or an unknown keyword: warned about at its line and ignored, the
 * rest of the configuration is used (one typo must not stop accounting). */
static void expect_warning(const char *text, unsigned line, const char *needle)
{
        NacctConfigReport rep;
        NacctConfig *c = parse(text, &rep);
        bool found = false;

        ASSERT_TRUE(c != NULL);
        if (c)
                ASSERT_STREQ(c->file, "/x");
        nacct_config_free(c);
        ASSERT_EQ_INT(rep.n_errors, 0);
        ASSERT_EQ_INT(rep.n_warnings, 1);
        for (size_t i = 0; i < rep.n; i++)
                if (rep.messages[i].severity == NACCT_CONFIG_WARNING &&
                    rep.messages[i].line == line && strstr(rep.messages[i].text, needle))
                        found = true;
        if (!found) {
                fprintf(stderr, "expected warning at line %u containing '%s' for:\n%s\ngot:\n",
                        line, needle, text);
                for (size_t i = 0; i < rep.n; i++)
                        fprintf(stderr, "  %u: %s\n", rep.messages[i].line, rep.messages[i].text);
        }
        ASSERT_TRUE(found);
}

/* The Debian package's /etc/naccttab (the sample with Debian's patch): must keep working. */
static const char debian_sample[] =
        "# nacctd config file\n"
        "\n"
        "# flush every n seconds\n"
        "flush 300\n"
        "\n"
        "# time after which an entry is considered old and written out\n"
        "fdelay 60\n"
        "\n"
        "# file to log to\n"
        "file /var/log/net-acct/net-acct.log\n"
        "\n"
        "# file to dump unfinished entries to\n"
        "dumpfile /var/log/net-acct/dump\n"
        "\n"
        "# debugging\n"
        "debugfile /var/log/net-acct/net-acct.debug\n"
        "debug 2\n"
        "\n"
        "# ignore traffic on the local net\n"
        "ignoremask 255.255.255.0\n"
        "\n"
        "# interface headers: prefix offset typeoffset\n"
        "headers tr 40 38\n"
        "headers lo 14 12\n"
        "headers isdn 4 0\n"
        "headers eth 14 12\n"
        "headers plip 14 12\n"
        "\n"
        "# only account eth0\n"
        "iflimit eth0\n"
        "\n"
        "# do not log the packet count\n"
        "disable 7\n";

static void test_debian_sample(void)
{
        NacctConfigReport rep;
        NacctConfig *c = parse(debian_sample, &rep);

        ASSERT_TRUE(c != NULL);
        if (!c)
                return;
        ASSERT_EQ_INT(rep.n_errors, 0);
        ASSERT_EQ_INT(c->flush_sec, 300);
        ASSERT_EQ_INT(c->fdelay_sec, 60);
        ASSERT_STREQ(c->file, "/var/log/net-acct/net-acct.log");
        ASSERT_STREQ(c->dumpfile, "/var/log/net-acct/dump");
        ASSERT_STREQ(c->debugfile, "/var/log/net-acct/net-acct.debug");
        ASSERT_EQ_INT(c->debug, 2);
        ASSERT_EQ_INT(c->ignoremask[2], 255);
        ASSERT_EQ_INT(c->ignoremask[3], 0);
        ASSERT_EQ_INT(c->n_headers, 5);
        ASSERT_EQ_INT(c->n_iflimit, 1);
        ASSERT_TRUE(c->disabled[7]);
        ASSERT_TRUE(!c->disabled[6]);
        /* One notice about headers, on its first line (23). */
        ASSERT_EQ_INT(rep.n, 1);
        ASSERT_EQ_INT(rep.messages[0].severity, NACCT_CONFIG_NOTICE);
        ASSERT_EQ_INT(rep.messages[0].line, 23);
        ASSERT_TRUE(strstr(rep.messages[0].text, "headers") != NULL);
        ASSERT_TRUE(nacct_config_accounts_interface(c, "eth0"));
        ASSERT_TRUE(!nacct_config_accounts_interface(c, "ens3"));
        nacct_config_free(c);
}

static void test_defaults(void)
{
        NacctConfigReport rep;
        NacctConfig *c = parse("file /tmp/x\n", &rep);

        ASSERT_TRUE(c != NULL);
        if (!c)
                return;
        ASSERT_EQ_INT(c->flush_sec, 300);
        ASSERT_EQ_INT(c->fdelay_sec, 60);
        ASSERT_EQ_INT(c->errdelay, 3);
        ASSERT_EQ_INT(c->debug, 0);
        ASSERT_TRUE(c->dumpfile == NULL);
        ASSERT_TRUE(c->debugfile == NULL);
        for (int i = 0; i < 4; i++)
                ASSERT_EQ_INT(c->ignoremask[i], 255);
        ASSERT_EQ_INT(c->active_sec, 300);
        ASSERT_EQ_INT(c->bin_sec, 3600);
        ASSERT_EQ_INT(c->retention_days, 400);
        ASSERT_EQ_INT(c->snaplen, 256);
        ASSERT_EQ_INT(c->capture_buffer, 4 * 1024 * 1024);
        ASSERT_EQ_INT(c->max_flows, 1000000);
        ASSERT_EQ_INT(c->max_captures, 256);
        for (int i = 0; i < _NACCT_FIELD_MAX; i++)
                ASSERT_TRUE(!c->disabled[i]);
        ASSERT_TRUE(nacct_config_accounts_interface(c, "anything"));
        ASSERT_TRUE(!nacct_config_promisc_interface(c, "eth0"));
        ASSERT_EQ_INT(rep.n, 0);
        nacct_config_free(c);
}

static void test_every_directive(void)
{
        static const char text[] = "FLUSH 10\n"
                                   "Fdelay 5   # comments anywhere\n"
                                   "file /var/log/net acct/with spaces.log\n"
                                   "dumpfile /tmp/dump\n"
                                   "debugfile /tmp/debug\n"
                                   "debug 404\n"
                                   "errdelay 7\n"
                                   "ignoremask /24\n"
                                   "ignorenet 127.0.0.0 255.0.0.0\n"
                                   "ignorenet fe80::/10\n"
                                   "dontignore 127.0.0.53/32\n"
                                   "notdev eth1\n"
                                   "notdev veth*\n"
                                   "iflimit eth*\n"
                                   "iflimit br-*\n"
                                   "hostlimit 10.200.1.2\n"
                                   "hostlimit 2001:db8::7\n"
                                   "device eth0\n"
                                   "headers eth 14 12\n"
                                   "dynamicip /run/nacct/dynip///\n"
                                   "dynamicnet 10.200.1.0 255.255.255.0\n"
                                   "dynamicnet 2001:db8:1::/64\n"
                                   "exclude-name-lookup 10.200.1.1 255.255.255.255\n"
                                   "exclude-name-lookup 10.200.1.3/32\n"
                                   "line ppp0 ttyS0\n"
                                   "line sl* ttyS1\n"
                                   "disable 4\n"
                                   "disable 7\n"
                                   "masqif 10.0.0.1\n"
                                   "activetimeout 2min\n"
                                   "bin 300\n"
                                   "retention 30\n"
                                   "snaplen 128\n"
                                   "capturebuffer 8M\n"
                                   "maxflows 5000\n"
                                   "maxcaptures 12\n"
                                   "\t  \n"
                                   "   # only a comment\n";
        NacctConfigReport rep;
        NacctConfig *c = parse(text, &rep);

        ASSERT_TRUE(c != NULL);
        if (!c) {
                for (size_t i = 0; i < rep.n; i++)
                        fprintf(stderr, "%u: %s\n", rep.messages[i].line, rep.messages[i].text);
                return;
        }
        ASSERT_EQ_INT(c->flush_sec, 10);
        ASSERT_EQ_INT(c->fdelay_sec, 5);
        ASSERT_STREQ(c->file, "/var/log/net acct/with spaces.log");
        ASSERT_STREQ(c->dumpfile, "/tmp/dump");
        ASSERT_STREQ(c->debugfile, "/tmp/debug");
        ASSERT_EQ_INT(c->debug, 404);
        ASSERT_EQ_INT(c->errdelay, 7);
        ASSERT_EQ_INT(c->ignoremask[2], 255);
        ASSERT_EQ_INT(c->ignoremask[3], 0);
        ASSERT_EQ_INT(c->n_ignorenet, 2);
        ASSERT_EQ_INT(c->ignorenet[1].family, NACCT_FAMILY_V6);
        ASSERT_EQ_INT(c->n_dontignore, 1);
        ASSERT_EQ_INT(c->n_notdev, 2);
        ASSERT_EQ_INT(c->n_iflimit, 2);
        ASSERT_EQ_INT(c->n_hostlimit, 2);
        ASSERT_EQ_INT(c->hostlimit[1].family, NACCT_FAMILY_V6);
        ASSERT_EQ_INT(c->n_promisc, 1);
        ASSERT_EQ_INT(c->n_headers, 1);
        ASSERT_STREQ(c->dynamicip, "/run/nacct/dynip");
        ASSERT_EQ_INT(c->dynamicnet4.family, NACCT_FAMILY_V4);
        ASSERT_EQ_INT(c->dynamicnet6.family, NACCT_FAMILY_V6);
        ASSERT_EQ_INT(c->n_exclude, 2);
        ASSERT_EQ_INT(c->n_lines, 2);
        ASSERT_STREQ(nacct_config_line_for(c, "ppp0"), "ttyS0");
        ASSERT_STREQ(nacct_config_line_for(c, "sl3"), "ttyS1");
        ASSERT_TRUE(nacct_config_line_for(c, "eth0") == NULL);
        ASSERT_TRUE(c->disabled[4] && c->disabled[7] && !c->disabled[5]);
        ASSERT_TRUE(c->masqif);
        ASSERT_EQ_INT(c->active_sec, 120);
        ASSERT_EQ_INT(c->bin_sec, 300);
        ASSERT_EQ_INT(c->retention_days, 30);
        ASSERT_EQ_INT(c->snaplen, 128);
        ASSERT_EQ_INT(c->capture_buffer, 8 * 1024 * 1024);
        ASSERT_EQ_INT(c->max_flows, 5000);
        ASSERT_EQ_INT(c->max_captures, 12);

        /* notdev wins over iflimit; iflimit is a whitelist of names and globs. */
        ASSERT_TRUE(nacct_config_accounts_interface(c, "eth0"));
        ASSERT_TRUE(!nacct_config_accounts_interface(c, "eth1"));
        ASSERT_TRUE(nacct_config_accounts_interface(c, "br-1234"));
        ASSERT_TRUE(!nacct_config_accounts_interface(c, "veth0"));
        ASSERT_TRUE(!nacct_config_accounts_interface(c, "lo"));
        ASSERT_TRUE(nacct_config_promisc_interface(c, "eth0"));
        ASSERT_TRUE(!nacct_config_promisc_interface(c, "eth2"));

        /* Notices: headers (19) and masqif (29) ignored, line over dynamicip (the file). */
        ASSERT_EQ_INT(rep.n_errors, 0);
        ASSERT_EQ_INT(rep.n, 3);
        ASSERT_EQ_INT(rep.messages[0].line, 19);
        ASSERT_EQ_INT(rep.messages[1].line, 29);
        ASSERT_TRUE(strstr(rep.messages[1].text, "masqif") != NULL);
        ASSERT_EQ_INT(rep.messages[2].line, 0);
        ASSERT_TRUE(strstr(rep.messages[2].text, "precedence") != NULL);
        nacct_config_free(c);
}

static void test_overrides_and_notices(void)
{
        NacctConfigReport rep;
        NacctConfig *c;

        /* A later single-valued directive wins, as before; dynamicnet per family. */
        c = parse("file /a\nfile /b\nflush 5\nflush 6\n"
                  "dynamicnet 10.0.0.0/8\ndynamicnet 192.168.0.0/16\n"
                  "ignorenet 10.1.2.3 255.255.0.0\n",
                  &rep);
        ASSERT_TRUE(c != NULL);
        if (!c)
                return;
        ASSERT_STREQ(c->file, "/b");
        ASSERT_EQ_INT(c->flush_sec, 6);
        ASSERT_EQ_INT(c->dynamicnet4.addr[0], 192);
        /* Bits outside the mask: a notice, and the network is used masked. */
        ASSERT_EQ_INT(rep.n, 1);
        ASSERT_EQ_INT(rep.messages[0].line, 7);
        ASSERT_TRUE(strstr(rep.messages[0].text, "10.1.0.0") != NULL);
        ASSERT_EQ_INT(c->ignorenet[0].addr[2], 0);
        nacct_config_free(c);

        c = parse("file /a\ndynamicip /d\n", &rep);
        ASSERT_TRUE(c != NULL);
        ASSERT_EQ_INT(rep.n, 1);
        ASSERT_EQ_INT(rep.messages[0].severity, NACCT_CONFIG_NOTICE);
        ASSERT_EQ_INT(rep.messages[0].line, 0);
        nacct_config_free(c);

        /* CRLF line ends and a last line without a newline. */
        c = parse("flush 20\r\nfile /x\r\nfdelay 3", &rep);
        ASSERT_TRUE(c != NULL);
        if (c) {
                ASSERT_EQ_INT(c->flush_sec, 20);
                ASSERT_STREQ(c->file, "/x");
                ASSERT_EQ_INT(c->fdelay_sec, 3);
        }
        nacct_config_free(c);
}

static void test_errors(void)
{
        /* Fatal: nothing could be collected, or one file named for two purposes (the log
         * recovered into itself and removed as a dump). */
        expect_error("flush 10\n", 0, "'file' directive");
        expect_error("file relative/log\n", 0, "'file' directive");
        expect_error("file /x\ndumpfile /x\n", 2, "is the log file named in line 1");
        expect_error("dumpfile /x\nfile /x\n", 1, "is the log file named in line 2");
        expect_error("file /x\ndebugfile /x\n", 2, "is the log file");
        expect_error("file /x\ndumpfile /d\ndebugfile /d\n", 3, "is the dumpfile");
        expect_error("file /d.new\ndumpfile /d\n", 1, "temporary file of the dumpfile");
        expect_error("file /x\ndumpfile /d\ndebugfile /d.new\n", 3, "temporary file");

        expect_warning("file /x\nbogus-keyword 1\n", 2, "unknown keyword 'bogus-keyword'");
        expect_warning("file /x\nflush\n", 2, "needs a value");
        expect_warning("file /x\nflush   # nothing\n", 2, "needs a value");
        expect_warning("file /x\nflush 0\n", 2, "invalid flush interval");
        expect_warning("file /x\nflush ten\n", 2, "invalid flush interval");
        expect_warning("file /x\nflush -5\n", 2, "invalid flush interval");
        expect_warning("file /x\nfdelay 99999999999999999999\n", 2, "invalid fdelay");
        expect_warning("file /x\nerrdelay x\n", 2, "invalid errdelay");
        expect_warning("file /x\ndebug 0xzz\n", 2, "invalid debug mask");
        expect_warning("file /x\ndebug 4294967296\n", 2, "invalid debug mask");
        expect_warning("file /x\nignoremask 255.255.255.256\n", 2, "invalid ignoremask");
        expect_warning("file /x\nignorenet 10.0.0.0 255.0.0\n", 2, "invalid ignorenet");
        expect_warning("file /x\ndontignore 300.0.0.0/8\n", 2, "invalid dontignore");
        expect_warning("file /x\nnotdev eth0 eth1\n", 2, "one interface name");
        expect_warning("file /x\niflimit averyveryverylongname\n", 2, "longer than 15");
        expect_warning("file /x\niflimit a/b\n", 2, "invalid character");
        expect_warning("file /x\ndevice eth:0\n", 2, "invalid character");
        /* The original crashed in strtok on a malformed hostlimit. */
        expect_warning("file /x\nhostlimit 10.0.0\n", 2, "invalid hostlimit");
        expect_warning("file /x\nhostlimit 10.0.0.1 10.0.0.2\n", 2, "invalid hostlimit");
        expect_warning("file /x\nheaders eth 14\n", 2, "three values");
        expect_warning("file /x\nheaders eth x 12\n", 2, "must be numbers");
        expect_warning("file /x\ndynamicnet 10.0.0.0 255.255.255.0 x\n", 2, "invalid dynamicnet");
        expect_warning("file /x\nexclude-name-lookup nothing\n", 2, "invalid exclude-name-lookup");
        expect_warning("file /x\nline ppp0\n", 2, "two values");
        expect_warning("file /x\ndisable 1\n", 2, "fields 2 to 10");
        expect_warning("file /x\ndisable 11\n", 2, "fields 2 to 10");
        expect_warning("file /x\ndisable x\n", 2, "fields 2 to 10");
        expect_warning("file /x\nmasqif ::1\n", 2, "invalid masqif");
        expect_warning("file /x\nbin 7\n", 2, "invalid bin");
        expect_warning("file /x\nbin 700\n", 2, "must divide a day");
        expect_warning("file /x\nretention 3h\n", 2, "invalid retention");
        expect_warning("file /x\nsnaplen 20\n", 2, "invalid snaplen");
        expect_warning("file /x\ncapturebuffer 1K\n", 2, "invalid capturebuffer");
        expect_warning("file /x\ncapturebuffer 2G\n", 2, "invalid capturebuffer");
        expect_warning("file /x\nmaxflows 10\n", 2, "invalid maxflows");
        expect_warning("file /x\nmaxcaptures 0\n", 2, "invalid maxcaptures");
        expect_warning("file /x\nactivetimeout soon\n", 2, "invalid activetimeout");
        expect_warning("file /x\nfile /y\x01z\n", 2, "control characters");
        expect_warning("file /x\nfile y\n", 2, "absolute path");
        expect_warning("file /x\ndumpfile /var/log/\n", 2, "names a directory");
        expect_warning("file /x\n\x1b[2Jbad 1\n", 2, "unknown keyword '?[2Jbad'");

        /* Several errors: all of them reported, each with its line. */
        {
                NacctConfigReport rep;
                NacctConfig *c = parse("flush 0\nfdelay x\nfile /a\nwhat ever\nflush 5\n", &rep);

                ASSERT_TRUE(c != NULL);
                ASSERT_EQ_INT(rep.n_errors, 0);
                ASSERT_EQ_INT(rep.n_warnings, 3);
                ASSERT_EQ_INT(rep.messages[0].line, 1);
                ASSERT_EQ_INT(rep.messages[1].line, 2);
                ASSERT_EQ_INT(rep.messages[2].line, 4);
                /* The good lines are applied, the bad ones leave the default. */
                ASSERT_EQ_INT(c->flush_sec, 5);
                ASSERT_EQ_INT(c->fdelay_sec, 60);
                nacct_config_free(c);
        }
        /* A NUL byte, an overlong line. */
        {
                NacctConfigReport rep;
                NacctConfig *c = NULL;
                char *big = malloc(NACCT_CONFIG_LINE_MAX + 32);

                ASSERT_EQ_INT(nacct_config_parse("t", "file /a\0x\n", 10, &rep, &c), -EINVAL);
                memset(big, 'a', NACCT_CONFIG_LINE_MAX + 10);
                memcpy(big, "file /", 6);
                big[NACCT_CONFIG_LINE_MAX + 10] = '\0';
                ASSERT_EQ_INT(nacct_config_parse("t", big, strlen(big), &rep, &c), -EINVAL);
                ASSERT_EQ_INT(rep.messages[0].line, 1);
                free(big);
        }
}

static void test_load(void)
{
        char path[] = "/tmp/test-naccttab-XXXXXX";
        NacctConfigReport rep;
        NacctConfig *c = NULL;
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ_INT(write(fd, "file /tmp/log\nflush 2\n", 22), 22);
        close(fd);
        ASSERT_EQ_INT(nacct_config_load(path, &rep, &c), 0);
        ASSERT_TRUE(c && streq(c->path, path));
        nacct_config_free(c);
        unlink(path);
        ASSERT_EQ_INT(nacct_config_load(path, &rep, &c), -ENOENT);
        ASSERT_EQ_INT(rep.n_errors, 1);
        ASSERT_EQ_INT(rep.messages[0].line, 0);
        ASSERT_EQ_INT(nacct_config_load("/tmp", &rep, &c), -EISDIR);
}

static void write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        ASSERT_TRUE(f != NULL);
        fputs(text, f);
        fclose(f);
}

/* Load a naccttab with text (%1$s is the temp dir); expect an error at line with needle. */
static void expect_load_error(const char *dir, const char *fmt, unsigned line, const char *needle)
{
        char path[512], text[2048];
        NacctConfigReport rep;
        NacctConfig *c = NULL;
        bool found = false;

        snprintf(path, sizeof(path), "%s/naccttab", dir);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(text, sizeof(text), fmt, dir);
#pragma GCC diagnostic pop
        write_text(path, text);
        ASSERT_EQ_INT(nacct_config_load(path, &rep, &c), -EINVAL);
        ASSERT_TRUE(c == NULL);
        for (size_t i = 0; i < rep.n; i++)
                if (rep.messages[i].severity == NACCT_CONFIG_ERROR &&
                    rep.messages[i].line == line && strstr(rep.messages[i].text, needle))
                        found = true;
        if (!found) {
                fprintf(stderr, "expected error at line %u containing '%s' for:\n%s\ngot:\n", line,
                        needle, text);
                for (size_t i = 0; i < rep.n; i++)
                        fprintf(stderr, "  %u: %s\n", rep.messages[i].line, rep.messages[i].text);
        }
        ASSERT_TRUE(found);
}

/* The files a naccttab names, as they are on disk: a directory, a FIFO, a device or a socket
 * where a regular file is meant, the same file under two names, a file nacctd did not write as
 * the dump. Loading never blocks on a FIFO (the naccttab itself included). */
static void test_files(void)
{
        char dir[] = "/tmp/test-nacct-files-XXXXXX", p[600], q[600];
        NacctConfigReport rep;
        NacctConfig *c = NULL;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(p, sizeof(p), "%s/adir", dir);
        ASSERT_EQ_INT(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/fifo", dir);
        ASSERT_EQ_INT(mkfifo(p, 0600), 0);
        snprintf(p, sizeof(p), "%s/log", dir);
        write_text(p, "1\t6\n");
        snprintf(q, sizeof(q), "%s/loglink", dir);
        ASSERT_EQ_INT(symlink(p, q), 0);
        snprintf(q, sizeof(q), "%s/loghard", dir);
        ASSERT_EQ_INT(link(p, q), 0);

        for (int k = 0; k < 3; k++) {
                static const char *const key[] = {"file", "dumpfile", "debugfile"};
                char fmt[256];

                /* The one under test in line 2; the others elsewhere. */
                snprintf(fmt, sizeof(fmt), "%s%s %%1$s/adir\n%s",
                         k == 0 ? "dumpfile %1$s/d\n" : "file %1$s/l\n", key[k],
                         k == 2 ? "dumpfile %1$s/d\n" : "debugfile %1$s/g\n");
                expect_load_error(dir, fmt, 2, "is a directory");
                snprintf(fmt, sizeof(fmt), "%s%s %%1$s/fifo\n%s",
                         k == 0 ? "dumpfile %1$s/d\n" : "file %1$s/l\n", key[k],
                         k == 2 ? "dumpfile %1$s/d\n" : "debugfile %1$s/g\n");
                expect_load_error(dir, fmt, 2, "is a FIFO");
                snprintf(fmt, sizeof(fmt), "%s%s /dev/zero\n%s",
                         k == 0 ? "dumpfile %1$s/d\n" : "file %1$s/l\n", key[k],
                         k == 2 ? "dumpfile %1$s/d\n" : "debugfile %1$s/g\n");
                expect_load_error(dir, fmt, 2, "is a character device");
        }
        expect_load_error(dir, "file /dev/null\n", 1, "character device");
        /* The same file through a symlink, a hard link, a "..", a double slash. */
        expect_load_error(dir, "file %1$s/log\ndumpfile %1$s/loglink\n", 2, "same file");
        expect_load_error(dir, "file %1$s/log\ndumpfile %1$s/loghard\n", 2, "same file");
        expect_load_error(dir, "file %1$s/log\ndumpfile %1$s/adir/../log\n", 2, "same file");
        expect_load_error(dir, "file %1$s//nolog\ndumpfile %1$s/nolog\n", 2, "same file");
        expect_load_error(dir, "file %1$s/l\ndebugfile %1$s/loglink\ndumpfile %1$s/log\n", 2,
                          "same file as the dumpfile");
        /* An existing file nacctd did not write, as the dump. */
        expect_load_error(dir, "file %1$s/other\ndumpfile %1$s/log\n", 2, "not written by nacctd");
        /* debugfile /dev/null is what the original defaulted to: fine. */
        snprintf(p, sizeof(p), "%s/naccttab", dir);
        snprintf(q, sizeof(q), "file %s/l\ndumpfile %s/d\ndebugfile /dev/null\n", dir, dir);
        write_text(p, q);
        ASSERT_EQ_INT(nacct_config_load(p, &rep, &c), 0);
        nacct_config_free(c);
        /* The naccttab itself a FIFO, with nobody writing: an error at once. */
        snprintf(p, sizeof(p), "%s/fifo", dir);
        ASSERT_EQ_INT(nacct_config_load(p, &rep, &c), -NACCT_ENOTREG);
        ASSERT_TRUE(strstr(rep.messages[0].text, "Not a regular file") != NULL);
        snprintf(q, sizeof(q), "rm -rf %s", dir);
        (void)!system(q);
}

int main(void)
{
        test_debian_sample();
        test_defaults();
        test_every_directive();
        test_overrides_and_notices();
        test_errors();
        test_files();
        test_load();
        return test_result();
}
