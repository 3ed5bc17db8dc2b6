/* fileio.c - small helpers around read(2) and write(2). */
#include <errno.h>
#include <unistd.h>

#include "fileio.h"

int loop_write(int fd, const void *p, size_t n)
{
        const char *q = p;

        while (n > 0) {
                ssize_t w = write(fd, q, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                if (w == 0)
                        return -EIO;
                q += w;
                n -= (size_t)w;
        }
        return 0;
}
