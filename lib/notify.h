/* notify.h - readiness and status notification to the service manager (Type=notify). */
#pragma once

#include "macro.h"

/* All of these are no-ops outside a service manager (NOTIFY_SOCKET unset). */
int notify_ready(const char *status);
int notify_status(const char *fmt, ...) _printf_(1, 2);
int notify_stopping(void);
/* RELOADING=1 (with MONOTONIC_USEC=); READY=1 follows when the reload is done. */
int notify_reloading(void);
/* Watchdog interval in microseconds if WatchdogSec= is on for us, else 0. */
unsigned long long notify_watchdog_usec(void);
int notify_watchdog(void);
