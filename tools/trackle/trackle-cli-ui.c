/* trackle-cli-ui.c - curses helpers of trackle's screen. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include <curses.h>

#include "fileio.h"
#include "macro.h"

#include "trackle-cli-ui.h"

#define LINE_INPUT_MAX 1024
#define EDIT_FILE_MAX (4 * 1024 * 1024)

void cli_ui_start(void)
{
        initscr();
        raw();
        noecho();
        keypad(stdscr, TRUE);
        set_escdelay(50);
        curs_set(0);
        if (has_colors()) {
                start_color();
                use_default_colors();
                init_pair(CLI_PAIR_BAR, COLOR_BLACK, COLOR_CYAN);
                init_pair(CLI_PAIR_ERROR, COLOR_RED, -1);
                init_pair(CLI_PAIR_LOCK, COLOR_RED, -1);
                init_pair(CLI_PAIR_CHANGED, COLOR_YELLOW, -1);
                init_pair(CLI_PAIR_SELECT, COLOR_BLACK, COLOR_WHITE);
        }
}

void cli_ui_stop(void)
{
        if (!isendwin())
                endwin();
}

void cli_ui_suspend(void)
{
        def_prog_mode();
        endwin();
}

void cli_ui_resume(void)
{
        reset_prog_mode();
        clearok(stdscr, TRUE);
        refresh();
}

/* The characters of text that fit in width columns; *ret_cols: the columns they take. */
static size_t to_wide(const char *text, int width, wchar_t *out, size_t max, int *ret_cols)
{
        mbstate_t st = {};
        size_t n = 0, left = strlen(text);
        int cols = 0;

        while (left > 0 && n + 1 < max) {
                wchar_t wc;
                size_t k = mbrtowc(&wc, text, left, &st);
                int w;

                if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
                        wc = L'?';
                        k = 1;
                        memset(&st, 0, sizeof(st));
                }
                w = wcwidth(wc);
                if (w < 0 || wc < 0x20 || wc == 0x7f) {
                        wc = L'?';
                        w = 1;
                }
                if (cols + w > width)
                        break;
                out[n++] = wc;
                cols += w;
                text += k;
                left -= k;
        }
        out[n] = 0;
        *ret_cols = cols;
        return n;
}

int cli_width(const char *text)
{
        wchar_t buf[512];
        int cols;

        (void)to_wide(text, INT_MAX / 2, buf, ELEMENTSOF(buf), &cols);
        return cols;
}

void cli_put(int y, int x, int width, const char *text, int attr)
{
        wchar_t buf[1024];
        size_t n;
        int cols;

        if (width <= 0 || y < 0 || y >= LINES)
                return;
        n = to_wide(strempty(text), width, buf, ELEMENTSOF(buf), &cols);
        attron(attr);
        mvaddnwstr(y, x, buf, (int)n);
        for (; cols < width; cols++)
                addch(' ');
        attroff(attr);
}

static int bar_attr(void)
{
        return has_colors() ? COLOR_PAIR(CLI_PAIR_BAR) : A_REVERSE;
}

void cli_title(const char *text)
{
        cli_put(0, 0, COLS, text, bar_attr() | A_BOLD);
}

void cli_help_bar(const char *keys)
{
        cli_put(LINES - 1, 0, COLS, keys, bar_attr());
}

void cli_message(const char *text, bool error)
{
        int attr = error ? (has_colors() ? COLOR_PAIR(CLI_PAIR_ERROR) | A_BOLD : A_BOLD) : 0;

        cli_put(LINES - 2, 0, COLS, text, attr);
}

bool cli_size_ok(void)
{
        char msg[128];

        if (COLS >= CLI_MIN_COLS && LINES >= CLI_MIN_LINES)
                return true;
        erase();
        snprintf(msg, sizeof(msg), "trackle needs %dx%d at least (now %dx%d). q quits.",
                 CLI_MIN_COLS, CLI_MIN_LINES, COLS, LINES);
        mvaddnstr(0, 0, msg, COLS);
        refresh();
        return false;
}

static char *from_wide(const wchar_t *w)
{
        size_t n = wcstombs(NULL, w, 0);
        char *s;

        if (n == (size_t)-1)
                return NULL;
        s = malloc(n + 1);
        if (s)
                wcstombs(s, w, n + 1);
        return s;
}

int cli_read_line(const char *prompt, const char *initial, char **ret)
{
        wchar_t buf[LINE_INPUT_MAX];
        size_t len, pos;
        int pw = cli_width(prompt), r = 0;

        len = mbstowcs(buf, strempty(initial), ELEMENTSOF(buf) - 1);
        if (len == (size_t)-1)
                len = 0;
        buf[len] = 0;
        pos = len;
        curs_set(1);
        for (;;) {
                size_t start = 0;
                int cols = 0, avail = COLS - pw - 1;
                wint_t ch;
                int k;

                /* Scroll so that the cursor stays visible. */
                for (size_t i = pos; i > 0; i--) {
                        int w = wcwidth(buf[i - 1]);
                        cols += w > 0 ? w : 1;
                        if (cols > avail) {
                                start = i;
                                break;
                        }
                }
                cli_put(LINES - 2, 0, pw, prompt, A_BOLD);
                move(LINES - 2, pw);
                clrtoeol();
                {
                        int shown = 0;
                        size_t i;

                        for (i = start; i < len; i++) {
                                int w = wcwidth(buf[i]);
                                if (shown + (w > 0 ? w : 1) > avail)
                                        break;
                                shown += w > 0 ? w : 1;
                        }
                        addnwstr(buf + start, (int)(i - start));
                        shown = 0;
                        for (i = start; i < pos; i++) {
                                int w = wcwidth(buf[i]);
                                shown += w > 0 ? w : 1;
                        }
                        move(LINES - 2, pw + shown);
                }
                refresh();
                k = get_wch(&ch);
                if (k == ERR)
                        continue;
                if (k == KEY_CODE_YES) {
                        if (ch == KEY_LEFT && pos > 0)
                                pos--;
                        else if (ch == KEY_RIGHT && pos < len)
                                pos++;
                        else if (ch == KEY_HOME)
                                pos = 0;
                        else if (ch == KEY_END)
                                pos = len;
                        else if (ch == KEY_BACKSPACE && pos > 0) {
                                wmemmove(buf + pos - 1, buf + pos, len - pos + 1);
                                pos--;
                                len--;
                        } else if (ch == KEY_DC && pos < len) {
                                wmemmove(buf + pos, buf + pos + 1, len - pos);
                                len--;
                        } else if (ch == KEY_ENTER)
                                break;
                        continue;
                }
                if (ch == L'\r' || ch == L'\n')
                        break;
                if (ch == 27) { /* Escape */
                        r = -1;
                        break;
                }
                if (ch == 3) { /* Ctrl-C cancels too */
                        r = -1;
                        break;
                }
                if ((ch == 127 || ch == 8) && pos > 0) {
                        wmemmove(buf + pos - 1, buf + pos, len - pos + 1);
                        pos--;
                        len--;
                } else if (ch == 21) { /* Ctrl-U */
                        len = pos = 0;
                        buf[0] = 0;
                } else if (ch == 1)
                        pos = 0;
                else if (ch == 5)
                        pos = len;
                else if (ch >= 0x20 && ch != 127 && len + 1 < ELEMENTSOF(buf)) {
                        wmemmove(buf + pos + 1, buf + pos, len - pos + 1);
                        buf[pos++] = (wchar_t)ch;
                        len++;
                }
        }
        curs_set(0);
        move(LINES - 2, 0);
        clrtoeol();
        if (r < 0)
                return 0;
        *ret = from_wide(buf);
        return *ret ? 1 : -ENOMEM;
}

int cli_pick(const char *title, const char *const *values, size_t n, size_t initial)
{
        size_t sel = initial < n ? initial : 0, top = 0;

        for (;;) {
                int h = MIN((int)n + 2, LINES - 4), w = MIN(COLS - 4, 60);
                int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2, rows = h - 2;
                wint_t ch;
                int k;

                if (sel < top)
                        top = sel;
                if (sel >= top + (size_t)rows)
                        top = sel - (size_t)rows + 1;
                cli_put(y0, x0, w, title, bar_attr() | A_BOLD);
                for (int i = 0; i < rows; i++) {
                        size_t v = top + (size_t)i;
                        char line[512];

                        if (v < n)
                                snprintf(line, sizeof(line), " %s",
                                         values[v] ? values[v] : "(none)");
                        else
                                line[0] = 0;
                        cli_put(y0 + 1 + i, x0, w, line, v == sel ? A_REVERSE : 0);
                }
                cli_put(y0 + h - 1, x0, w, " ↑↓ move  ⏎ pick  Esc cancel", bar_attr());
                refresh();
                k = get_wch(&ch);
                if (k == ERR || cli_move(&sel, n, (size_t)rows, k, ch))
                        continue;
                if (k == KEY_CODE_YES) {
                        if (ch == KEY_ENTER)
                                return (int)sel;
                        if (ch == KEY_RESIZE)
                                erase();
                        continue;
                }
                if (ch == L'\r' || ch == L'\n')
                        return (int)sel;
                if (ch == 27 || ch == L'q' || ch == 3)
                        return -1;
        }
}

bool cli_move(size_t *sel, size_t n, size_t page, int k, wint_t ch)
{
        if (n == 0)
                return false;
        if (k == KEY_CODE_YES && ch == KEY_UP)
                ch = L'k', k = OK;
        if (k == KEY_CODE_YES && ch == KEY_DOWN)
                ch = L'j', k = OK;
        if (k == KEY_CODE_YES) {
                if (ch == KEY_PPAGE)
                        *sel = *sel > page ? *sel - page : 0;
                else if (ch == KEY_NPAGE)
                        *sel = MIN(n - 1, *sel + page);
                else if (ch == KEY_HOME)
                        *sel = 0;
                else if (ch == KEY_END)
                        *sel = n - 1;
                else
                        return false;
                return true;
        }
        if (ch == L'k') {
                if (*sel > 0)
                        (*sel)--;
                return true;
        }
        if (ch == L'j') {
                if (*sel + 1 < n)
                        (*sel)++;
                return true;
        }
        return false;
}

bool cli_confirm(const char *question)
{
        for (;;) {
                wint_t ch;
                int k;

                cli_message(question, false);
                refresh();
                k = get_wch(&ch);
                if (k == ERR || k == KEY_CODE_YES)
                        continue;
                cli_message("", false);
                return ch == L'y' || ch == L'Y';
        }
}

static int read_all(int fd, char **ret)
{
        size_t len = 0, cap = 0;
        char *buf = NULL;

        for (;;) {
                ssize_t k;

                if (len + 4096 + 1 > cap) {
                        char *b;

                        if (cap > EDIT_FILE_MAX) {
                                free(buf);
                                return -EFBIG;
                        }
                        b = realloc(buf, cap = cap * 2 + 8192);
                        if (!b) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = b;
                }
                k = read(fd, buf + len, cap - len - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        free(buf);
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        buf[len] = 0;
        *ret = buf;
        return 0;
}

int cli_edit_text(const char *initial, char **ret)
{
        const char *tmpdir = getenv("TMPDIR");
        _cleanup_close_ int fd = -EBADF, rfd = -EBADF;
        char path[PATH_MAX];
        int status = 0, r;
        pid_t pid;

        if (isempty(tmpdir) || tmpdir[0] != '/')
                tmpdir = "/tmp";
        if (snprintf(path, sizeof(path), "%s/trackle-edit-XXXXXX.txt", tmpdir) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        fd = mkostemps(path, 4, O_CLOEXEC); /* 0600 */
        if (fd < 0)
                return -errno;
        r = loop_write(fd, strempty(initial), strlen(strempty(initial)));
        if (r < 0) {
                (void)unlink(path);
                return r;
        }
        fd = safe_close(fd);

        cli_ui_suspend();
        pid = fork();
        if (pid == 0) {
                /* Like git and crontab: the editor variable may hold options, the shell splits
                 * it; the file name is passed as "$1", never through the shell's parser. */
                execl("/bin/sh", "sh", "-c", "exec ${VISUAL:-${EDITOR:-vi}} \"$1\"", "sh", path,
                      (char *)NULL);
                _exit(127);
        }
        if (pid > 0) {
                struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;

                sigaction(SIGINT, &ign, &old_int);
                sigaction(SIGQUIT, &ign, &old_quit);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                sigaction(SIGINT, &old_int, NULL);
                sigaction(SIGQUIT, &old_quit, NULL);
        }
        cli_ui_resume();
        if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                (void)unlink(path);
                return pid < 0 ? -errno : 0;
        }
        /* The editor may have replaced the file (write to a new file, rename): open by name. */
        rfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        (void)unlink(path);
        if (rfd < 0)
                return -errno;
        r = read_all(rfd, ret);
        return r < 0 ? r : 1;
}
