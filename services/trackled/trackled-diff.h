/* trackled-diff.h - unified diffs of two versions of a file (libgit2). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A unified diff "--- a/PATH\n+++ b/PATH\n@@ ...", path absolute (shown without its leading
 * '/'). A or b may be NULL (created, deleted). *ret is malloc'd. */
int trackled_diff(const char *path, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                  char **ret);
