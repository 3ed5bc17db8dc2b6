/* fuzz-trackle-wire.c - libFuzzer target: a byte stream cut into trackle control-socket frames.
 * Every frame either parses into fields that stay inside it and re-encode to the same bytes,
 * or is refused; nothing reads past the input. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "trackle-wire.h"

static void cstr(const TrackleString *s, char *buf, size_t size)
{
        assert(s->len < size);
        memcpy(buf, s->data, s->len);
        buf[s->len] = 0;
}

static void check_payload(uint16_t type, const uint8_t *p, size_t n)
{
        static uint8_t again[TRACKLE_WIRE_LIB_FRAME_MAX + TRACKLE_WIRE_HEADER_SIZE];
        char a[TRACKLE_WIRE_PATH_MAX + 1], b[TRACKLE_WIRE_PATH_MAX + 1];
        TrackleHello h;
        TrackleBefore bf;
        TrackleEvent ev;
        TrackleExec ex;
        TrackleString s;
        uint32_t u;
        int32_t st;
        size_t off = 0, count = 0;
        int r;

        switch (type) {
        case TRACKLE_FRAME_HELLO:
                if (trackle_wire_parse_hello(p, n, &h) < 0)
                        return;
                r = trackle_wire_hello(again, sizeof(again), &h);
                assert(r == (int)(n + TRACKLE_WIRE_HEADER_SIZE));
                assert(memcmp(again + TRACKLE_WIRE_HEADER_SIZE, p, n) == 0);
                break;
        case TRACKLE_FRAME_BEFORE:
                if (trackle_wire_parse_before(p, n, &bf) < 0)
                        return;
                cstr(&bf.path, a, sizeof(a));
                r = trackle_wire_before(again, sizeof(again), bf.op, bf.flags, a);
                assert(r == (int)(n + TRACKLE_WIRE_HEADER_SIZE));
                assert(memcmp(again + TRACKLE_WIRE_HEADER_SIZE, p, n) == 0);
                break;
        case TRACKLE_FRAME_EVENT:
                if (trackle_wire_parse_event(p, n, &ev) < 0)
                        return;
                cstr(&ev.path, a, sizeof(a));
                cstr(&ev.path2, b, sizeof(b));
                r = trackle_wire_event(again, sizeof(again), ev.op, &ev.before, a, b);
                assert(r == (int)(n + TRACKLE_WIRE_HEADER_SIZE));
                assert(memcmp(again + TRACKLE_WIRE_HEADER_SIZE, p, n) == 0);
                break;
        case TRACKLE_FRAME_EXEC:
                if (trackle_wire_parse_exec(p, n, &ex) < 0)
                        return;
                assert(ex.cwd.len <= TRACKLE_WIRE_PATH_MAX && ex.file.len <= TRACKLE_WIRE_PATH_MAX);
                while (trackle_wire_exec_next(&ex, &off, &s) > 0) {
                        assert((const uint8_t *)s.data >= p &&
                               (const uint8_t *)s.data + s.len <= p + n);
                        assert(!memchr(s.data, 0, s.len));
                        count++;
                }
                assert(count == ex.argc && off == ex.argv_len);
                break;
        case TRACKLE_FRAME_MISSED:
                if (trackle_wire_parse_missed(p, n, &u) == 0)
                        assert(n == 4);
                break;
        case TRACKLE_FRAME_RING:
                if (trackle_wire_parse_ring(p, n, &u) == 0) {
                        assert(n == 8 && u >= TRACKLE_RING_DATA_MIN && u <= TRACKLE_RING_DATA_MAX &&
                               (u & (u - 1)) == 0);
                        r = trackle_wire_ring(again, sizeof(again), u);
                        assert(r == (int)(n + TRACKLE_WIRE_HEADER_SIZE));
                        assert(memcmp(again + TRACKLE_WIRE_HEADER_SIZE, p, n) == 0);
                }
                break;
        case TRACKLE_FRAME_MARK: {
                uint64_t m;
                if (trackle_wire_parse_mark(p, n, &m) == 0) {
                        assert(n == 8);
                        r = trackle_wire_mark(again, sizeof(again), m);
                        assert(r == (int)(n + TRACKLE_WIRE_HEADER_SIZE));
                        assert(memcmp(again + TRACKLE_WIRE_HEADER_SIZE, p, n) == 0);
                }
                break;
        }
        case TRACKLE_FRAME_ACK:
                if (trackle_wire_parse_ack(p, n, &st) == 0)
                        assert(n == 4 && st <= 0);
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        while (size >= TRACKLE_WIRE_HEADER_SIZE) {
                TrackleHeader hdr;

                if (trackle_wire_parse_header(data, TRACKLE_WIRE_HEADER_SIZE, &hdr) < 0)
                        return 0;
                data += TRACKLE_WIRE_HEADER_SIZE;
                size -= TRACKLE_WIRE_HEADER_SIZE;
                if (hdr.length > size)
                        return 0;
                if (hdr.type != TRACKLE_FRAME_JSON)
                        check_payload(hdr.type, data, hdr.length);
                data += hdr.length;
                size -= hdr.length;
        }
        return 0;
}
