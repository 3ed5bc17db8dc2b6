/* nacct-report-output.h - rows as an aligned table, CSV, JSON or an SVG chart. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "nacct-report-query.h"

typedef enum NrFormat {
        NR_FORMAT_TABLE,
        NR_FORMAT_CSV,
        NR_FORMAT_JSON,
        NR_FORMAT_SVG,
} NrFormat;

/* "tcp", "udp", ... or NULL. */
const char *nr_protocol_name(int64_t proto);

/* 1536 -> "1.5 KiB". buf holds at least 16 bytes. */
const char *nr_format_bytes(int64_t v, char *buf, size_t size);

/* Write rows of kind in a format; title goes into the SVG. */
int nr_output(FILE *f, NrFormat format, NrKind kind, const NrRows *rows, const char *title);
