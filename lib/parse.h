/* parse.h - strict parsers for numbers, booleans and time spans found in config and argv. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

int parse_uint64(const char *s, uint64_t *ret);
int parse_uint32(const char *s, uint32_t *ret);
int parse_port(const char *s, uint16_t *ret);
int parse_bool(const char *s, bool *ret);
/* "90d", "12h", "30min", "45s", "1w", "2h 30min" or a plain number of seconds; "0" is zero. */
int parse_timespan_sec(const char *s, uint64_t *ret);
/* A span with a default unit of milliseconds: "5", "5ms", "1s". */
int parse_timespan_msec(const char *s, uint64_t *ret);
