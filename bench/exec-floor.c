/* exec-floor.c - the floor for any wrapper: exec "argv[0].t%" and do nothing else. */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

/* No stdio on purpose: the static build stays as small as an exec-only wrapper can be. */
int main(int argc, char **argv)
{
        static const char msg[] = "exec-floor: cannot execute the real program\n";
        size_t n;
        char *real;

        if (argc < 1 || !argv[0])
                return 127;
        n = strlen(argv[0]);
        real = malloc(n + sizeof(".t%"));
        if (!real)
                return 127;
        memcpy(real, argv[0], n);
        memcpy(real + n, ".t%", sizeof(".t%"));
        execv(real, argv);
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        return 127;
}
