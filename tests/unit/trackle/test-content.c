/* test-content.c - snapshots: SHA-256, cap, redaction, binary flag, symlinks, absent paths. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "trackled-content.h"

static void put(const char *path, const char *data, size_t n)
{
        FILE *f = fopen(path, "we");
        fwrite(data, 1, n, f);
        fclose(f);
}

/* An access time long before the file's mtime: the next plain read moves it (relatime). */
static void old_atime(const char *path)
{
        struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_nsec = UTIME_OMIT}};

        ASSERT_EQ_INT(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static time_t atime_of(const char *path)
{
        struct stat st;

        ASSERT_EQ_INT(stat(path, &st), 0);
        return st.st_atime;
}

int main(void)
{
        char dir[] = "/tmp/test-trackle-content-XXXXXX", p[256], q[256];
        TrackledConfig c;
        TrackledSnapshot s;
        int root;

        if (!mkdtemp(dir))
                TEST_SKIP("no temporary directory");
        ASSERT_EQ_INT(trackled_config_defaults(&c), 0);
        c.content_max = 16;
        root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

        snprintf(p, sizeof(p), "%s/a.txt", dir);
        put(p, "abc", 3);
        ASSERT_EQ_INT(trackled_snapshot_path(root, p, &c, &s), 0);
        ASSERT_EQ_INT(s.kind, TRACKLED_KIND_FILE);
        ASSERT_STREQ(s.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        ASSERT_EQ_INT(s.content_len, 3);
        ASSERT_TRUE(!s.binary && !s.over_cap && !s.redacted);
        trackled_snapshot_done(&s);

        put(p, "0123456789abcdefXYZ", 19); /* past the cap: hash and size only */
        ASSERT_EQ_INT(trackled_snapshot_path(root, p, &c, &s), 0);
        ASSERT_TRUE(s.over_cap && s.content == NULL && s.have_hash);
        ASSERT_EQ_INT(s.size, 19);
        trackled_snapshot_done(&s);

        snprintf(q, sizeof(q), "%s/host.key", dir);
        put(q, "secret", 6);
        ASSERT_EQ_INT(trackled_snapshot_path(root, q, &c, &s), 0);
        ASSERT_TRUE(s.redacted && s.content == NULL && s.have_hash);
        ASSERT_EQ_INT(s.size, 6);
        trackled_snapshot_done(&s);

        put(p, "a\0b", 3);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        ASSERT_EQ_INT(trackled_snapshot_fd(fd, p, &c, &s), 0);
        ASSERT_TRUE(s.binary && s.content != NULL);
        trackled_snapshot_done(&s);
        close(fd);
        ASSERT_TRUE(trackled_content_is_binary((const uint8_t *)"\xff\xfe", 2));
        ASSERT_TRUE(!trackled_content_is_binary((const uint8_t *)"h\xc3\xa9", 3));

        /* Snapshots leave the access time alone (the file is ours: O_NOATIME is allowed). */
        put(p, "atime\n", 6);
        old_atime(p);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0 && read(fd, q, sizeof(q)) == 6);
        close(fd);
        if (atime_of(p) == 1000000000) {
                printf("note: a read does not move access times on %s (noatime): "
                       "the access time checks cannot fail here\n",
                       dir);
        }
        old_atime(p);
        ASSERT_EQ_INT(trackled_snapshot_path(root, p, &c, &s), 0);
        ASSERT_EQ_INT(s.size, 6);
        trackled_snapshot_done(&s);
        ASSERT_EQ_INT(atime_of(p), 1000000000);
        fd = open(p, O_RDONLY | O_CLOEXEC); /* as the library passes it: no O_NOATIME */
        ASSERT_EQ_INT(trackled_snapshot_fd(fd, p, &c, &s), 0);
        ASSERT_EQ_INT(s.size, 6);
        trackled_snapshot_done(&s);
        close(fd);
        ASSERT_EQ_INT(atime_of(p), 1000000000);

        snprintf(q, sizeof(q), "%s/link", dir);
        ASSERT_EQ_INT(symlink("/etc/shadow-target", q), 0);
        ASSERT_EQ_INT(trackled_snapshot_path(root, q, &c, &s), 0);
        ASSERT_EQ_INT(s.kind, TRACKLED_KIND_SYMLINK);
        ASSERT_EQ_INT(s.size, strlen("/etc/shadow-target"));
        ASSERT_TRUE(s.content && memcmp(s.content, "/etc/shadow-target", s.size) == 0);
        trackled_snapshot_done(&s);

        snprintf(q, sizeof(q), "%s/none/deeper", dir);
        ASSERT_EQ_INT(trackled_snapshot_path(root, q, &c, &s), 0);
        ASSERT_EQ_INT(s.kind, TRACKLED_KIND_ABSENT);
        ASSERT_EQ_INT(trackled_snapshot_path(root, dir, &c, &s), 0);
        ASSERT_EQ_INT(s.kind, TRACKLED_KIND_DIRECTORY);

        unlink(p);
        unlink(q);
        snprintf(q, sizeof(q), "%s/link", dir);
        unlink(q);
        snprintf(q, sizeof(q), "%s/host.key", dir);
        unlink(q);
        rmdir(dir);
        close(root);
        trackled_config_done(&c);
        return test_result();
}
