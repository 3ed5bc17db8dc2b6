/* fileio.h - small helpers around read(2) and write(2). */
#pragma once

#include <stddef.h>

/* All n bytes of p to fd, across short writes and EINTR: 0, or -errno (-EIO if write(2)
 * wrote nothing without saying why). */
int loop_write(int fd, const void *p, size_t n);
