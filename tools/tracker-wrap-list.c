/* tracker-wrap-list.c - reading the tracked.d lists and editing local.list. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "tracker-wrap-list.h"
#include "utf8.h"

#define LIST_FILE_MAX (1024 * 1024)
#define LIST_FILES_MAX 256

void wrap_list_done(WrapList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->entries[i].path);
                free(l->entries[i].file);
        }
        free(l->entries);
        *l = (WrapList){};
}

bool wrap_path_is_valid(const char *path)
{
        size_t len;

        if (!path || path[0] != '/')
                return false;
        len = strlen(path);
        if (len < 2 || len >= 4096 || path[len - 1] == '/' || strstr(path, "//"))
                return false;
        if (strstr(path, "/./") || strstr(path, "/../") ||
            (len >= 2 && streq(path + len - 2, "/.")) || (len >= 3 && streq(path + len - 3, "/..")))
                return false;
        return utf8_is_printable_n(path, len);
}

const WrapEntry *wrap_list_find(const WrapList *l, const char *path)
{
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->entries[i].path, path))
                        return &l->entries[i];
        return NULL;
}

static int list_append(WrapList *l, const char *path, bool force, const char *file, unsigned line)
{
        WrapEntry *n;

        if (wrap_list_find(l, path))
                return 0; /* listed twice: once is enough */
        n = realloc(l->entries, (l->n + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        l->entries = n;
        n[l->n] = (WrapEntry){
                .path = strdup(path), .force = force, .file = strdup(file), .line = line};
        if (!n[l->n].path || !n[l->n].file) {
                free(n[l->n].path);
                free(n[l->n].file);
                return -ENOMEM;
        }
        l->n++;
        return 0;
}

static int read_small_file(const char *path, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        FILE *f;
        size_t n;

        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        buf = malloc(LIST_FILE_MAX + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, LIST_FILE_MAX + 1, f);
        fclose(f);
        if (n > LIST_FILE_MAX)
                return -EFBIG;
        buf[n] = '\0';
        if (strlen(buf) != n)
                return -EBADMSG;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* One list file: "PATH" or "PATH force" per line, '#' comments, blank lines. */
static int list_parse_file(const char *file, bool report, WrapList *l)
{
        _cleanup_free_ char *text = NULL;
        unsigned lineno = 0;
        int bad = 0, r;

        r = read_small_file(file, &text);
        if (r < 0) {
                if (report)
                        log_error_errno(r, "%s: cannot read: %m", file);
                return 1;
        }
        for (char *next = text, *line; next;) {
                char *path, *word, *save = NULL;
                bool force = false;

                line = next;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                if (strchr(line, '#'))
                        *strchr(line, '#') = '\0';
                path = strtok_r(line, " \t\r", &save);
                if (!path)
                        continue;
                word = strtok_r(NULL, " \t\r", &save);
                if (word && streq(word, "force")) {
                        force = true;
                        word = strtok_r(NULL, " \t\r", &save);
                }
                if (word) {
                        if (report)
                                log_error(
                                        "%s:%u: unexpected '%s' after the path, ignoring the line.",
                                        file, lineno, word);
                        bad++;
                        continue;
                }
                if (!wrap_path_is_valid(path)) {
                        if (report)
                                log_error(
                                        "%s:%u: '%s' is not an absolute, normalized path, ignoring "
                                        "the line.",
                                        file, lineno, path);
                        bad++;
                        continue;
                }
                r = list_append(l, path, force, file, lineno);
                if (r < 0)
                        return r;
        }
        return bad;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int wrap_list_load(const char *dir, bool report, WrapList *ret)
{
        WrapList l = {};
        char *names[LIST_FILES_MAX];
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int bad = 0, r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = l;
                        return 0;
                }
                return negative_errno();
        }
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);

                if (de->d_name[0] == '.' || len <= strlen(WRAP_LIST_SUFFIX) ||
                    !streq(de->d_name + len - strlen(WRAP_LIST_SUFFIX), WRAP_LIST_SUFFIX))
                        continue;
                if (n >= LIST_FILES_MAX) {
                        log_warning("More than %d list files in '%s', ignoring the rest.",
                                    LIST_FILES_MAX, dir);
                        break;
                }
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(names[0]), cmp_str);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *file = NULL;

                if (r >= 0 && asprintf(&file, "%s/%s", dir, names[i]) < 0)
                        r = -ENOMEM;
                if (r >= 0) {
                        int b = list_parse_file(file, report, &l);
                        if (b < 0)
                                r = b;
                        else
                                bad += b;
                }
                free(names[i]);
        }
        if (r < 0) {
                wrap_list_done(&l);
                return r;
        }
        *ret = l;
        return bad;
}

/* Rewrite local.list with path added or removed; other lines are kept as they are. */
static int local_rewrite(const char *dir, const char *path, bool add, bool force)
{
        _cleanup_free_ char *file = NULL, *tmp = NULL, *text = NULL;
        bool found = false;
        FILE *f;
        int r;

        if (asprintf(&file, "%s/%s", dir, WRAP_LOCAL_LIST) < 0 ||
            asprintf(&tmp, "%s/.%s.tmp", dir, WRAP_LOCAL_LIST) < 0)
                return -ENOMEM;
        r = read_small_file(file, &text);
        if (r < 0 && r != -ENOENT)
                return r;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        f = fopen(tmp, "we");
        if (!f)
                return negative_errno();
        if (!text)
                fprintf(f, "# Programs wrapped with tracker-wrap add; see tracker-wrap(8).\n");
        for (char *next = text, *line; next && *next;) {
                char first[4096] = "";

                line = next;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                (void)sscanf(line, " %4095s", first);
                if (streq(first, path)) {
                        found = true;
                        if (!add)
                                continue;
                }
                fprintf(f, "%s\n", line);
        }
        if (add && !found)
                fprintf(f, "%s%s\n", path, force ? " force" : "");
        if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
                r = negative_errno();
                fclose(f);
                unlink(tmp);
                return r;
        }
        fclose(f);
        (void)chmod(tmp, 0644);
        if (rename(tmp, file) < 0) {
                r = negative_errno();
                unlink(tmp);
                return r;
        }
        return 0;
}

int wrap_list_local_add(const char *dir, const char *path, bool force)
{
        return local_rewrite(dir, path, true, force);
}

int wrap_list_local_remove(const char *dir, const char *path)
{
        return local_rewrite(dir, path, false, false);
}
