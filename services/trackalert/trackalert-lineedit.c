/* trackalert-lineedit.c - raw-mode line editing with history for the console client. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "macro.h"
#include "trackalert-lineedit.h"

#define LINE_MAX_LEN 4096
#define HISTORY_MAX 500

void lineedit_init(LineEdit *le, const char *history_file)
{
        FILE *f;
        char *line = NULL;
        size_t n = 0;

        *le = (LineEdit){.history_file = history_file};
        if (!history_file || !(f = fopen(history_file, "re")))
                return;
        while (getline(&line, &n, f) > 0) {
                line[strcspn(line, "\n")] = '\0';
                if (*line)
                        lineedit_add_history(le, line);
        }
        free(line);
        fclose(f);
}

void lineedit_done(LineEdit *le)
{
        for (size_t i = 0; i < le->n_history; i++)
                free(le->history[i]);
        free(le->history);
        *le = (LineEdit){};
}

void lineedit_add_history(LineEdit *le, const char *line)
{
        char **p;

        if (le->n_history > 0 && streq(le->history[le->n_history - 1], line))
                return;
        if (le->n_history >= HISTORY_MAX) {
                free(le->history[0]);
                memmove(le->history, le->history + 1, (le->n_history - 1) * sizeof(char *));
                le->n_history--;
        }
        p = reallocarray(le->history, le->n_history + 1, sizeof(char *));
        if (!p)
                return;
        le->history = p;
        le->history[le->n_history] = strdup(line);
        if (le->history[le->n_history])
                le->n_history++;
}

static void refresh(const char *prompt, const char *buf, size_t len, size_t pos)
{
        char seq[32];

        (void)!write(STDOUT_FILENO, "\r", 1);
        (void)!write(STDOUT_FILENO, prompt, strlen(prompt));
        (void)!write(STDOUT_FILENO, buf, len);
        (void)!write(STDOUT_FILENO, "\x1b[0K", 4);
        snprintf(seq, sizeof(seq), "\r\x1b[%zuC", strlen(prompt) + pos);
        (void)!write(STDOUT_FILENO, seq, strlen(seq));
}

static char *read_plain(const char *prompt)
{
        char *line = NULL;
        size_t n = 0;
        ssize_t l;

        if (isatty(STDOUT_FILENO)) {
                fputs(prompt, stdout);
                fflush(stdout);
        }
        l = getline(&line, &n, stdin);
        if (l < 0) {
                free(line);
                return NULL;
        }
        line[strcspn(line, "\n")] = '\0';
        return line;
}

char *lineedit_read(LineEdit *le, const char *prompt)
{
        struct termios orig, raw;
        char buf[LINE_MAX_LEN];
        size_t len = 0, pos = 0, hist = le->n_history;
        char *result = NULL;
        bool eof = false;

        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &orig) < 0)
                return read_plain(prompt);
        raw = orig;
        raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
        raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
                return read_plain(prompt);
        buf[0] = '\0';
        refresh(prompt, buf, len, pos);
        for (;;) {
                char c, seq[3];

                if (read(STDIN_FILENO, &c, 1) != 1) {
                        eof = true;
                        break;
                }
                if (c == '\r' || c == '\n')
                        break;
                if (c == 4) { /* ^D */
                        if (len == 0) {
                                eof = true;
                                break;
                        }
                        if (pos < len) {
                                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                                len--;
                        }
                } else if (c == 3) { /* ^C: drop the line */
                        len = pos = 0;
                } else if (c == 127 || c == 8) {
                        if (pos > 0) {
                                memmove(buf + pos - 1, buf + pos, len - pos);
                                pos--;
                                len--;
                        }
                } else if (c == 1)
                        pos = 0;
                else if (c == 5)
                        pos = len;
                else if (c == 11)
                        len = pos;
                else if (c == 21) {
                        memmove(buf, buf + pos, len - pos);
                        len -= pos;
                        pos = 0;
                } else if (c == 23) { /* ^W: previous word */
                        size_t p = pos;
                        while (p > 0 && buf[p - 1] == ' ')
                                p--;
                        while (p > 0 && buf[p - 1] != ' ')
                                p--;
                        memmove(buf + p, buf + pos, len - pos);
                        len -= pos - p;
                        pos = p;
                } else if (c == 27) {
                        if (read(STDIN_FILENO, &seq[0], 1) != 1 || read(STDIN_FILENO, &seq[1], 1) != 1)
                                continue;
                        if (seq[0] == '[' && seq[1] >= '0' && seq[1] <= '9') {
                                if (read(STDIN_FILENO, &seq[2], 1) != 1)
                                        continue;
                                if (seq[2] == '~' && seq[1] == '3' && pos < len) {
                                        memmove(buf + pos, buf + pos + 1, len - pos - 1);
                                        len--;
                                } else if (seq[2] == '~' && (seq[1] == '1' || seq[1] == '7'))
                                        pos = 0;
                                else if (seq[2] == '~' && (seq[1] == '4' || seq[1] == '8'))
                                        pos = len;
                        } else if (seq[0] == '[' || seq[0] == 'O') {
                                switch (seq[1]) {
                                case 'C': if (pos < len) pos++; break;
                                case 'D': if (pos > 0) pos--; break;
                                case 'H': pos = 0; break;
                                case 'F': pos = len; break;
                                case 'A':
                                case 'B':
                                        if (seq[1] == 'A' && hist > 0)
                                                hist--;
                                        else if (seq[1] == 'B' && hist < le->n_history)
                                                hist++;
                                        else
                                                break;
                                        if (hist < le->n_history)
                                                snprintf(buf, sizeof(buf), "%s", le->history[hist]);
                                        else
                                                buf[0] = '\0';
                                        len = pos = strlen(buf);
                                        break;
                                }
                        }
                } else if ((unsigned char)c >= 32 && len + 1 < sizeof(buf)) {
                        memmove(buf + pos + 1, buf + pos, len - pos);
                        buf[pos++] = c;
                        len++;
                }
                buf[len] = '\0';
                refresh(prompt, buf, len, pos);
        }
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &orig);
        (void)!write(STDOUT_FILENO, "\n", 1);
        if (eof)
                return NULL;
        buf[len] = '\0';
        result = strdup(buf);
        if (result && *result) {
                lineedit_add_history(le, result);
                if (le->history_file) {
                        FILE *f = fopen(le->history_file, "ae");
                        if (f) {
                                fprintf(f, "%s\n", result);
                                fclose(f);
                        }
                }
        }
        return result;
}
