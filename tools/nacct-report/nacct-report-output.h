/* nacct-report-output.h - rows as an aligned table, CSV, JSON or an SVG chart. */
#pragma once

#include <stdbool.h>
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

/* How a series is charted (NR_FORMAT_SVG). */
typedef struct NrChart {
        const char *title;
        NrBucket by;          /* the buckets of NR_TIMELINE, NR_HOST, NR_USER */
        bool bits_per_second; /* average bit/s per bucket instead of bytes */
} NrChart;

/* Write rows of kind in a format (lib/report). */
int nr_output(FILE *f, NrFormat format, NrKind kind, const NrRows *rows, const NrChart *chart);
