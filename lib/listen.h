/* listen.h - sockets passed in by the service manager (socket activation), by name. */
#pragma once

#include <stddef.h>

/* Collect the passed file descriptors named name (FileDescriptorName=); with accept_unnamed
 * also those with the default name "unknown" (systemd-socket-activate without --fdname).
 * Every fd must be a socket of the given type (SOCK_DGRAM, SOCK_STREAM), else -EBADFD.
 * Returns the number of fds (0 if not socket-activated); the fds are stored in fds[] (at most
 * max). Unused passed fds are left alone. */
int listen_fds_by_name(const char *name, int type, int *fds, size_t max);

/* Open a listening/bound socket of the given type on "addr:port" ("[::]:1738", "0.0.0.0:1738").
 * For manual runs outside socket activation. Returns the fd or -errno. */
int listen_open(const char *spec, int type, unsigned short default_port);
