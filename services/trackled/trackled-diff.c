/* trackled-diff.c - unified diff with git_patch_from_buffers() + git_patch_to_buf(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "macro.h"
#include "trackled-diff.h"

static int git_once(void)
{
        static int initialized;

        if (!initialized) {
                if (git_libgit2_init() < 0)
                        return -ENOMEM;
                initialized = 1;
        }
        return 0;
}

int trackled_diff(const char *path, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                  char **ret)
{
        git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
        git_patch *patch = NULL;
        git_buf buf = {};
        const char *rel = path;
        char *out;
        int r;

        r = git_once();
        if (r < 0)
                return r;
        while (*rel == '/')
                rel++;
        /* Text by our own binary check already: never let git decide "Binary files differ". */
        opts.flags |= GIT_DIFF_FORCE_TEXT;
        /* A missing side (created, deleted) is /dev/null in its header, as diff -N and git
         * write it. */
        if (git_patch_from_buffers(&patch, a, a ? a_len : 0, a ? rel : NULL, b, b ? b_len : 0,
                                   b ? rel : NULL, &opts) < 0)
                return -EIO;
        if (!patch) {
                out = strdup("");
                if (!out)
                        return -ENOMEM;
                *ret = out;
                return 0;
        }
        r = git_patch_to_buf(&buf, patch);
        git_patch_free(patch);
        if (r < 0)
                return -EIO;
        /* libgit2 starts with "diff --git a/x b/x": keep from the "--- " line on. */
        const char *start = buf.ptr ? strstr(buf.ptr, "\n--- ") : NULL;
        start = start ? start + 1 : (buf.ptr ? buf.ptr : "");
        out = strdup(start);
        git_buf_dispose(&buf);
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}
