/* smtp-send.c - test helper: smtp_send() of the message on stdin. Prints the error and exits
 * 1 when smtp_send() fails. Usage: smtp-send RELAY FROM RCPT... < MESSAGE */
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"
#include "smtp.h"

int main(int argc, char **argv)
{
        _cleanup_free_ char *msg = NULL, *err = NULL;
        size_t cap = 0, len = 0, n;
        int r;

        if (argc < 4) {
                fprintf(stderr, "usage: smtp-send RELAY FROM RCPT... < MESSAGE\n");
                return 2;
        }
        for (;;) {
                if (len + 4096 + 1 > cap) {
                        char *m = realloc(msg, cap = 2 * cap + 8192);
                        if (!m)
                                return 2;
                        msg = m;
                }
                n = fread(msg + len, 1, cap - len - 1, stdin);
                len += n;
                if (n == 0)
                        break;
        }
        msg[len] = '\0';
        r = smtp_send(argv[1], argv[2], (const char *const *)argv + 3, (size_t)argc - 3, msg, &err);
        if (r < 0) {
                fprintf(stderr, "smtp-send: %s\n", err ? err : "out of memory");
                return 1;
        }
        return 0;
}
