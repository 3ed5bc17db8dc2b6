/* trackle-cli-ui.h - the curses pieces of trackle's screen: UTF-8 text in cells, the help
 * bar, a line editor, a pick-list, an external editor. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

#define CLI_MIN_COLS 80
#define CLI_MIN_LINES 24

enum {
        CLI_PAIR_BAR = 1, /* title and help bar */
        CLI_PAIR_ERROR,
        CLI_PAIR_LOCK,
        CLI_PAIR_CHANGED,
        CLI_PAIR_SELECT,
};

void cli_ui_start(void);
void cli_ui_stop(void);
/* Curses off, the terminal as it was, for a program that uses it; cli_ui_resume() after. */
void cli_ui_suspend(void);
void cli_ui_resume(void);

/* Text (UTF-8; control characters and invalid bytes shown as '?') at y, x in exactly width
 * columns: cut at a character boundary, padded with spaces. */
void cli_put(int y, int x, int width, const char *text, int attr);
/* Display columns of text as cli_put() shows it. */
int cli_width(const char *text);

/* Title line (row 0), help bar (last row) and message (row above it). */
void cli_title(const char *text);
void cli_help_bar(const char *keys);
void cli_message(const char *text, bool error);

/* Is the terminal big enough? If not, say so on the screen. */
bool cli_size_ok(void);

/* A line of text edited on the message row, starting from initial. Returns 1 with the
 * malloc'ed text (Enter), 0 when cancelled (Escape), -errno on failure. */
int cli_read_line(const char *prompt, const char *initial, char **ret);

/* A pick-list over the screen: n values (NULL stands for "(none)"); Enter picks, Escape
 * cancels. Returns the index picked, or -1. */
int cli_pick(const char *title, const char *const *values, size_t n, size_t initial);

/* Moving a selection in a list of n: arrows, PgUp/PgDn (by page), Home/End, j/k. k and ch
 * as get_wch() gave them. True when the key was one of these. */
bool cli_move(size_t *sel, size_t n, size_t page, int k, wint_t ch);

/* Ask a yes/no question on the message row. */
bool cli_confirm(const char *question);

/* Edit text in $VISUAL, $EDITOR or vi (curses suspended meanwhile), in a private temporary
 * file. Returns 1 with the file's content (malloc'ed, exact bytes), 0 when the editor failed
 * (nothing to use), -errno on a local failure. */
int cli_edit_text(const char *initial, char **ret);
