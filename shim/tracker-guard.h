/* tracker-guard.h - the TRACKING=name:depth:time recursion guard of tracker(8). */
#pragma once

#include <stddef.h>
#include <time.h>

#define TRACKING_ENV "TRACKING"
#define TRACKING_DEPTH_MAX 10

/* Given the inherited TRACKING value (NULL if unset), the program about to run and the current
 * time, compute this run's depth: the inherited depth + 1 if the value names the same program
 * and its time is at most one second away from now, else 1. Returns -ELOOP if that depth
 * reaches TRACKING_DEPTH_MAX. Malformed values count as unset. */
int tracking_next_depth(const char *env, const char *program, time_t now, unsigned *ret_depth);

/* Format "program:depth:now" into buf; -ENOBUFS if it does not fit. */
int tracking_format(char *buf, size_t size, const char *program, unsigned depth, time_t now);
