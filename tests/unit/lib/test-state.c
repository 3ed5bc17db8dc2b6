/* test-state.c - the SQLite opener: creation, migrations, version checks, read-only opens. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "state.h"
#include "test.h"

static const char *const v1[] = {
        "CREATE TABLE t (a INTEGER);",
};
static const char *const v2[] = {
        "CREATE TABLE t (a INTEGER);",
        "ALTER TABLE t ADD COLUMN b TEXT; INSERT INTO t (a, b) VALUES (1, 'x');",
};
static const char *const broken[] = {
        "CREATE TABLE t (a INTEGER);",
        "ALTER TABLE t ADD COLUMN c TEXT; THIS IS NOT SQL;",
};

static int count_rows(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st;
        int n = -1;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return -1;
        if (sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return n;
}

int main(void)
{
        char dir[] = "/tmp/test-state-XXXXXX", path[128], cmd[256];
        sqlite3 *db = NULL;
        int v = -1;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof(path), "%s/x.db", dir);

        /* Read-only open of a database that does not exist. */
        ASSERT_EQ_INT(state_open(path, true, v1, 1, &db), -ENOENT);

        ASSERT_EQ_INT(state_open(path, false, v1, 1, &db), 0);
        ASSERT_EQ_INT(state_user_version(db, &v), 0);
        ASSERT_EQ_INT(v, 1);
        {
                sqlite3_stmt *st;
                ASSERT_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), 0);
                ASSERT_EQ_INT(sqlite3_step(st), SQLITE_ROW);
                ASSERT_STREQ((const char *)sqlite3_column_text(st, 0), "wal");
                sqlite3_finalize(st);
        }
        sqlite3_close(db);

        /* A tool that knows version 2 refuses to read a version 1 database... */
        ASSERT_EQ_INT(state_open(path, true, v2, 2, &db), -EPROTO);
        /* ...the owner migrates it... */
        ASSERT_EQ_INT(state_open(path, false, v2, 2, &db), 0);
        ASSERT_EQ_INT(state_user_version(db, &v), 0);
        ASSERT_EQ_INT(v, 2);
        ASSERT_EQ_INT(count_rows(db, "SELECT count(*) FROM t WHERE b = 'x'"), 1);
        sqlite3_close(db);
        /* ...and then it is readable, but not writable, read-only. */
        ASSERT_EQ_INT(state_open(path, true, v2, 2, &db), 0);
        ASSERT_EQ_INT(state_exec(db, "INSERT INTO t (a) VALUES (2)"), -EACCES);
        sqlite3_close(db);

        /* An older program must not touch a newer database. */
        ASSERT_EQ_INT(state_open(path, false, v1, 1, &db), -EPROTONOSUPPORT);
        ASSERT_EQ_INT(state_open(path, true, v1, 1, &db), -EPROTONOSUPPORT);

        /* A failing migration leaves the database as it was. */
        snprintf(path, sizeof(path), "%s/y.db", dir);
        ASSERT_EQ_INT(state_open(path, false, v1, 1, &db), 0);
        ASSERT_EQ_INT(state_exec(db, "INSERT INTO t (a) VALUES (5)"), 0);
        sqlite3_close(db);
        ASSERT_TRUE(state_open(path, false, broken, 2, &db) < 0);
        ASSERT_EQ_INT(state_open(path, false, v1, 1, &db), 0);
        ASSERT_EQ_INT(state_user_version(db, &v), 0);
        ASSERT_EQ_INT(v, 1);
        ASSERT_EQ_INT(count_rows(db, "SELECT count(*) FROM t WHERE a = 5"), 1);
        ASSERT_EQ_INT(count_rows(db, "SELECT count(*) FROM pragma_table_info('t') WHERE name='c'"),
                      0);
        sqlite3_close(db);

        /* Something that is not a database at all. */
        snprintf(path, sizeof(path), "%s/z.db", dir);
        {
                FILE *f = fopen(path, "w");
                fputs("this is not an SQLite database, it is a text file of some length......\n",
                      f);
                fclose(f);
        }
        ASSERT_EQ_INT(state_open(path, false, v1, 1, &db), -EUCLEAN);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ASSERT_EQ_INT(system(cmd), 0);
        return test_result();
}
