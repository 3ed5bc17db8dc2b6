/* trackalert-lineedit.h - a small line editor for the console client (libedit and readline are
 * not used: readline is GPL-3, libedit is not in the build deps). Raw-mode editing with
 * cursor keys, Home/End, ^A ^E ^U ^K ^W, and history (up/down) when stdin is a terminal; plain
 * line reading otherwise. */
#pragma once

#include <stddef.h>

typedef struct LineEdit {
        char **history;
        size_t n_history;
        const char *history_file; /* appended to, may be NULL */
} LineEdit;

void lineedit_init(LineEdit *le, const char *history_file);
void lineedit_done(LineEdit *le);
/* Returns a malloc'd line without the newline, or NULL at end of input. */
char *lineedit_read(LineEdit *le, const char *prompt);
void lineedit_add_history(LineEdit *le, const char *line);
