/* trackle-admin-wiki.c - trackle-admin wiki export|import|list: wiki pages as plain files, one
 * per page, named after the page. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "trackle-client.h"
#include "utf8.h"

#include "trackle-admin.h"

#define WIKI_FILE_MAX (1024 * 1024)

static const char wiki_help[] =
        "Usage: trackle-admin wiki list\n"
        "       trackle-admin wiki export DIR\n"
        "       trackle-admin wiki import DIR\n"
        "\n"
        "export writes the newest version of every page to DIR/NAME (DIR is created if\n"
        "needed; files of the same name are replaced). import stores every regular file of\n"
        "DIR as the page it is named after, as a new version unless the text is the page's\n"
        "already. The round trip is exact, byte for byte. In file names, '/', '%', control\n"
        "characters and a leading '.' of a page name are written %XX (hex); files whose name\n"
        "starts with '.' are not pages. Page texts are UTF-8 without NUL bytes.\n";

/* Page name -> file name. */
static int name_to_file(const char *name, char *buf, size_t size)
{
        size_t o = 0;

        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
                bool esc = *p == '/' || *p == '%' || *p < 0x20 || *p == 0x7f ||
                           (p == (const unsigned char *)name && *p == '.');

                if (o + (esc ? 3 : 1) >= size)
                        return -ENAMETOOLONG;
                if (esc) {
                        snprintf(buf + o, 4, "%%%02X", *p);
                        o += 3;
                } else
                        buf[o++] = (char)*p;
        }
        buf[o] = '\0';
        return o > 0 && o <= NAME_MAX ? 0 : -ENAMETOOLONG;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* File name -> page name; -EINVAL for a '%' not followed by two hex digits, or a NUL. */
static int file_to_name(const char *file, char *buf, size_t size)
{
        size_t o = 0;

        for (const char *p = file; *p; p++) {
                char c = *p;

                if (c == '%') {
                        int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;

                        if (h < 0 || l < 0 || (h == 0 && l == 0))
                                return -EINVAL;
                        c = (char)(h * 16 + l);
                        p += 2;
                }
                if (o + 1 >= size)
                        return -ENAMETOOLONG;
                buf[o++] = c;
        }
        buf[o] = '\0';
        return 0;
}

/* DIR/file replaced atomically: a temporary file of ours, then rename. */
static int write_file(int dirfd, const char *dir, const char *file, const char *text, size_t len)
{
        char tmp[64];
        _cleanup_close_ int fd = -EBADF;
        int r;

        snprintf(tmp, sizeof(tmp), ".trackle-wiki.%ld.tmp", (long)getpid());
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return admin_fail("cannot create '%s/%s': %m", dir, tmp), -errno;
        r = loop_write(fd, text, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, file) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(dirfd, tmp, 0);
                admin_fail("cannot write '%s/%s': %s", dir, file, strerror(-r));
        }
        return r;
}

static int wiki_export(const char *dir)
{
        json_object *reply, *pages;
        _cleanup_close_ int dirfd = -EBADF;
        int ret = ADMIN_EXIT_OK;
        size_t n;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return admin_fail("cannot create '%s': %m", dir);
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return admin_fail("cannot open '%s': %m", dir);
        if (admin_call(trackle_request_new("wiki.list"), "pages", &reply, &pages) < 0)
                return ADMIN_EXIT_FAILURE;
        n = json_object_is_type(pages, json_type_array) ? json_object_array_length(pages) : 0;
        for (size_t i = 0; i < n; i++) {
                const char *name = json_object_get_string(
                        json_object_object_get(json_object_array_get_idx(pages, i), "name"));
                json_object *preply, *page, *t;
                char file[PATH_MAX];

                if (!name || name_to_file(name, file, sizeof(file)) < 0) {
                        admin_fail("page '%s': its name is too long for a file name",
                                   strempty(name));
                        ret = ADMIN_EXIT_FAILURE;
                        continue;
                }
                if (admin_call(admin_request("wiki.get", "name", name, NULL), "page", &preply,
                               &page) < 0) {
                        ret = ADMIN_EXIT_FAILURE;
                        continue;
                }
                t = json_object_object_get(page, "text");
                if (!json_object_is_type(t, json_type_string) ||
                    write_file(dirfd, dir, file, json_object_get_string(t),
                               (size_t)json_object_get_string_len(t)) < 0)
                        ret = ADMIN_EXIT_FAILURE;
                json_object_put(preply);
        }
        json_object_put(reply);
        return ret;
}

static int read_page(int dirfd, const char *dir, const char *file, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;

        fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return admin_fail("cannot open '%s/%s': %m", dir, file), -errno;
        if (fstat(fd, &st) < 0)
                return admin_fail("cannot stat '%s/%s': %m", dir, file), -errno;
        if (!S_ISREG(st.st_mode))
                return admin_fail("'%s/%s' is not a regular file", dir, file), -EINVAL;
        if (st.st_size > WIKI_FILE_MAX)
                return admin_fail("'%s/%s' is larger than %d bytes", dir, file, WIKI_FILE_MAX),
                       -EFBIG;
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return admin_fail("out of memory"), -ENOMEM;
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return admin_fail("cannot read '%s/%s': %m", dir, file), -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        if (memchr(buf, '\0', len) || !utf8_is_valid_n(buf, len))
                return admin_fail("'%s/%s' is not UTF-8 text without NUL bytes", dir, file),
                       -EINVAL;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int wiki_import(const char *dir)
{
        _cleanup_close_ int dirfd = -EBADF;
        int ret = ADMIN_EXIT_OK;
        char **files = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;

        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return admin_fail("cannot open '%s': %m", dir);
        d = fdopendir(dup(dirfd));
        if (!d)
                return admin_fail("cannot read '%s': %m", dir);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        char **m = reallocarray(files, cap = 2 * cap + 16, sizeof(*files));
                        if (!m)
                                break;
                        files = m;
                }
                files[n] = strdup(de->d_name);
                if (files[n])
                        n++;
        }
        closedir(d);
        qsort(files, n, sizeof(*files), name_cmp);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *text = NULL;
                char name[PATH_MAX];
                json_object *req;
                size_t len = 0;

                if (file_to_name(files[i], name, sizeof(name)) < 0) {
                        admin_fail("'%s/%s': a '%%' in a file name must start %%XX (hex)", dir,
                                   files[i]);
                        ret = ADMIN_EXIT_FAILURE;
                        continue;
                }
                if (read_page(dirfd, dir, files[i], &text, &len) < 0) {
                        ret = ADMIN_EXIT_FAILURE;
                        continue;
                }
                req = admin_request("wiki.put", "name", name, "comment",
                                    "imported by trackle-admin", NULL);
                if (req)
                        json_object_object_add(req, "text",
                                               json_object_new_string_len(text, (int)len));
                if (admin_call_simple(req) < 0)
                        ret = ADMIN_EXIT_FAILURE;
        }
        for (size_t i = 0; i < n; i++)
                free(files[i]);
        free(files);
        return ret;
}

static int wiki_list(void)
{
        json_object *reply, *pages;
        size_t n;

        if (admin_call(trackle_request_new("wiki.list"), "pages", &reply, &pages) < 0)
                return ADMIN_EXIT_FAILURE;
        n = json_object_is_type(pages, json_type_array) ? json_object_array_length(pages) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(pages, i);

                printf("%s\t%s\t%s\n", json_object_get_string(json_object_object_get(p, "name")),
                       json_object_get_string(json_object_object_get(p, "version")),
                       json_object_get_string(json_object_object_get(p, "changed")));
        }
        json_object_put(reply);
        return fflush(stdout) == 0 ? ADMIN_EXIT_OK : admin_fail("cannot write: %m");
}

int admin_wiki_main(int argc, char **argv)
{
        if (admin_wants_help(argc, argv, wiki_help))
                return ADMIN_EXIT_OK;
        if (argc == 2 && streq(argv[1], "list"))
                return wiki_list();
        if (argc == 3 && streq(argv[1], "export"))
                return wiki_export(argv[2]);
        if (argc == 3 && streq(argv[1], "import"))
                return wiki_import(argv[2]);
        return admin_usage("wiki", "list, export DIR or import DIR is required");
}
