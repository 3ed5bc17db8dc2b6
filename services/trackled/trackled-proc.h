/* trackled-proc.h - kernel facts about processes from /proc: parent, start time, audit
 * session id, loginuid, ancestry. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TRACKLED_ANCESTRY_MAX 4096 /* parents walked at most */

/* Parent pid and start time (field 22 of /proc/PID/stat, clock ticks since boot). */
int trackled_proc_stat(pid_t pid, pid_t *ret_ppid, uint64_t *ret_start);
/* -ENODATA when unset (4294967295). */
int trackled_proc_sessionid(pid_t pid, uint32_t *ret);
int trackled_proc_loginuid(pid_t pid, uint32_t *ret);
/* 1 if pid is alive with this start time, 0 if not. */
int trackled_proc_alive(pid_t pid, uint64_t start);
/* 1 if pid is leader (same start time) or descends from it, 0 if not, -errno. */
int trackled_proc_descends(pid_t pid, pid_t leader, uint64_t leader_start);
/* 1 if every process with audit session id sessionid descends from the leader, 0 if some
 * other process has it too. */
int trackled_proc_session_exclusive(uint32_t sessionid, pid_t leader, uint64_t leader_start);
