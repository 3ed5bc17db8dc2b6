/* test-report.c - lib/report: the escaping rule for tables (controls, invisible, bidi and
 * separator characters, invalid UTF-8), CSV formula injection, JSON, round axis ticks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "report.h"
#include "test.h"
#include "utf8.h"

static char *render(ReportFormat format, const char *const *names, size_t n, bool crlf)
{
        static const ReportColumn cols[] = {{"name", REPORT_COLUMN_TEXT}, {"n", REPORT_COLUMN_INT}};
        ReportCell cells[32];
        char *text = NULL;
        size_t size;
        FILE *f;

        for (size_t i = 0; i < n; i++) {
                cells[2 * i] = (ReportCell){.text = names[i]};
                cells[2 * i + 1] = (ReportCell){.value = (int64_t)i - 1};
        }
        f = open_memstream(&text, &size);
        ASSERT_TRUE(f != NULL);
        ASSERT_EQ_INT(report_write(f, format,
                                   &(ReportTable){.columns = cols,
                                                  .n_columns = 2,
                                                  .cells = cells,
                                                  .n_rows = n,
                                                  .style = {.csv_crlf = crlf}}),
                      0);
        fclose(f);
        return text;
}

/* Every character that does not show as itself is escaped in a table, byte by byte, with the
 * rest of the text left alone; nothing else is touched. */
static void test_table_escaping(void)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                {"plain", "plain"},
                {"n\xc3\xa4me", "n\xc3\xa4me"},    /* visible UTF-8 */
                {"C:\\dir", "C:\\dir"},            /* a lone backslash */
                {"esc\x1b[31m", "esc\\x1b[31m"},   /* C0 */
                {"tab\tx", "tab\\x09x"},           /* splits a column */
                {"line\nbreak", "line\\x0abreak"}, /* splits a row */
                {"del\x7f", "del\\x7f"},           /* DEL */
                {"c1\xc2\x9b"
                 "2J",
                 "c1\\xc2\\x9b2J"},      /* C1 CSI */
                {"bad\xff", "bad\\xff"}, /* not UTF-8 */
                {"\xe2\x80\xae"
                 "gnp.exe",
                 "\\xe2\\x80\\xaegnp.exe"}, /* RLO */
                {"a\xe2\x81\xa6"
                 "b",
                 "a\\xe2\\x81\\xa6b"}, /* LRI */
                {"a\xe2\x80\x8b"
                 "b",
                 "a\\xe2\\x80\\x8bb"}, /* zero width space */
                {"a\xe2\x80\xa8"
                 "b",
                 "a\\xe2\\x80\\xa8b"}, /* line separator */
                {"a\xe2\x80\xa9"
                 "b",
                 "a\\xe2\\x80\\xa9b"}, /* paragraph separator */
                {"\xef\xbb\xbf"
                 "bom",
                 "\\xef\\xbb\\xbfbom"}, /* BOM */
                {"a\xc2\xad"
                 "b",
                 "a\\xc2\\xadb"},                               /* soft hyphen */
                {"t\xf3\xa0\x80\x81", "t\\xf3\\xa0\\x80\\x81"}, /* tag */
                {"\xc3\xa4\x01\\", "\xc3\xa4\\x01\\x5c"},       /* backslash once escaping */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *names[] = {cases[i].in};
                char *out = render(REPORT_FORMAT_TABLE, names, 1, false), *line, want[256];
                char *esc = NULL;

                line = strchr(out, '\n') + 1;
                snprintf(want, sizeof(want), "%s", cases[i].out);
                ASSERT_TRUE(strncmp(line, want, strlen(want)) == 0);
                if (strncmp(line, want, strlen(want)) != 0)
                        fprintf(stderr, "case %zu: got '%s'\n", i, line);
                ASSERT_TRUE(strchr(line, '\n') == line + strlen(line) - 1);
                ASSERT_EQ_INT(utf8_escape_invisible(cases[i].in, &esc),
                              streq(cases[i].in, cases[i].out) ? 0 : 1);
                free(esc);
                free(out);
        }
}

/* A cell a spreadsheet would run as a formula gets a leading '; numbers stay numbers. */
static void test_csv_injection(void)
{
        const char *names[] = {"=HYPERLINK(\"http://x\",\"y\")",
                               "+1+1",
                               "-2+3",
                               "@SUM(A1)",
                               "\tx",
                               "\rx",
                               "=1,2",
                               "safe",
                               "a=b"};
        char *out = render(REPORT_FORMAT_CSV, names, ELEMENTSOF(names), false);

        ASSERT_STREQ(out, "name,n\n"
                          "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-1\n"
                          "'+1+1,0\n"
                          "'-2+3,1\n"
                          "'@SUM(A1),2\n"
                          "'\tx,3\n"
                          "\"'\rx\",4\n"
                          "\"'=1,2\",5\n"
                          "safe,6\n"
                          "a=b,7\n");
        free(out);
        out = render(REPORT_FORMAT_CSV, names, 1, true);
        ASSERT_STREQ(out, "name,n\r\n\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-1\r\n");
        free(out);
        /* Invalid UTF-8 is escaped in CSV and JSON; valid text is kept. */
        {
                const char *bad[] = {"x\xff\\"};

                out = render(REPORT_FORMAT_CSV, bad, 1, false);
                ASSERT_STREQ(out, "name,n\nx\\xff\\x5c,-1\n");
                free(out);
                out = render(REPORT_FORMAT_JSON, bad, 1, false);
                ASSERT_TRUE(strstr(out, "\"x\\\\xff\\\\x5c\"") != NULL);
                free(out);
        }
}

static void test_ticks(void)
{
        static const struct {
                double max, div;
                double step, top;
        } cases[] = {
                {0, 1, 1, 6},
                {1, 1, 0.2, 1},
                {7, 1, 2, 8},
                {10, 1, 2, 10},
                {11, 1, 2, 12},
                {999, 1, 200, 1000},
                {1234567, 1, 500000, 1500000},
                {3.5 * 1048576, 1048576, 1, 4},
                {0.03, 1, 0.005, 0.03},
                {55, 1, 10, 60},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                double step, top;

                report_axis_ticks(cases[i].max, cases[i].div, 6, &step, &top);
                ASSERT_TRUE(fabs(step - cases[i].step) < 1e-9 * cases[i].step);
                ASSERT_TRUE(fabs(top - cases[i].top) < 1e-9 * cases[i].top);
                if (fabs(step - cases[i].step) >= 1e-9 * cases[i].step ||
                    fabs(top - cases[i].top) >= 1e-9 * cases[i].top)
                        fprintf(stderr, "ticks(%g): step %g top %g\n", cases[i].max, step, top);
                ASSERT_TRUE(top * cases[i].div >= cases[i].max);
        }
}

int main(void)
{
        test_table_escaping();
        test_csv_injection();
        test_ticks();
        return test_result();
}
