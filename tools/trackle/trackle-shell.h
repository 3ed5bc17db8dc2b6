/* trackle-shell.h - trackle shell: a fresh audit session, session.open, the tracked shell,
 * and saving the session when it ends. */
#pragma once

#include "trackle-args.h"

/* Runs the whole flow; returns the exit status for trackle (the shell's, or 1 when the
 * session could not be opened). */
int trackle_shell_main(const TrackleArgs *args);

/* "1 3-4, 6" -> marks in hide[0..n) (1-based numbers); -EINVAL for anything else. */
int trackle_parse_selection(const char *s, bool *hide, size_t n);
