/*
 * gdb_packet.c - RSP framing (gdb_packet.h).  The input comes from a
 * socket: every byte is checked, lengths are bounded by the fixed buffers.
 */
#include "gdb_packet.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { RX_IDLE, RX_PAYLOAD, RX_SUM1, RX_SUM2 };

void glint_gdb_rx_init(glint_gdb_rx *rx) {
    rx->state = RX_IDLE;
    rx->escape = false;
    rx->overflow = false;
    rx->sum = 0;
    rx->check = 0;
    rx->len = 0;
    rx->buf[0] = 0;
}

int glint_gdb_hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

glint_gdb_rx_event glint_gdb_rx_byte(glint_gdb_rx *rx, uint8_t c) {
    switch (rx->state) {
    case RX_IDLE:
        if (c == '$') {
            rx->state = RX_PAYLOAD;
            rx->escape = false;
            rx->overflow = false;
            rx->sum = 0;
            rx->len = 0;
            return GLINT_GDB_RX_NONE;
        }
        if (c == 0x03) return GLINT_GDB_RX_INTERRUPT;
        if (c == '+') return GLINT_GDB_RX_ACK;
        if (c == '-') return GLINT_GDB_RX_NAK;
        return GLINT_GDB_RX_NONE;
    case RX_PAYLOAD:
        if (c == '#' && !rx->escape) {
            rx->state = RX_SUM1;
            return GLINT_GDB_RX_NONE;
        }
        if (c == '$' && !rx->escape) {
            /* A '$' inside a packet is never sent unescaped: the previous
             * packet was cut short.  Start over with this one, and say so. */
            rx->escape = false;
            rx->overflow = false;
            rx->sum = 0;
            rx->len = 0;
            return GLINT_GDB_RX_BAD;
        }
        rx->sum = (uint8_t)(rx->sum + c);
        if (rx->escape) {
            rx->escape = false;
            c ^= 0x20;
        } else if (c == '}') {
            rx->escape = true;
            return GLINT_GDB_RX_NONE;
        }
        if (rx->len < GLINT_GDB_PACKET_MAX)
            rx->buf[rx->len++] = c;
        else
            rx->overflow = true;
        return GLINT_GDB_RX_NONE;
    case RX_SUM1: {
        int d = glint_gdb_hex_digit(c);
        if (d < 0) {
            rx->state = RX_IDLE;
            return GLINT_GDB_RX_BAD;
        }
        rx->check = (uint8_t)(d << 4);
        rx->state = RX_SUM2;
        return GLINT_GDB_RX_NONE;
    }
    case RX_SUM2: {
        int d = glint_gdb_hex_digit(c);
        rx->state = RX_IDLE;
        if (d < 0 || rx->overflow) return GLINT_GDB_RX_BAD;
        rx->check |= (uint8_t)d;
        if (rx->check != rx->sum) return GLINT_GDB_RX_BAD;
        rx->buf[rx->len] = 0;
        return GLINT_GDB_RX_PACKET;
    }
    default: rx->state = RX_IDLE; return GLINT_GDB_RX_BAD;
    }
}

void glint_gdb_tx_reset(glint_gdb_tx *tx) {
    tx->len = 0;
    tx->overflow = false;
}

void glint_gdb_tx_bytes(glint_gdb_tx *tx, const void *data, size_t len) {
    if (tx->overflow || len > sizeof tx->buf - tx->len) {
        tx->overflow = true;
        return;
    }
    memcpy(tx->buf + tx->len, data, len);
    tx->len += len;
}

void glint_gdb_tx_str(glint_gdb_tx *tx, const char *s) { glint_gdb_tx_bytes(tx, s, strlen(s)); }

void glint_gdb_tx_hex(glint_gdb_tx *tx, const void *data, size_t len) {
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    if (tx->overflow || len > (sizeof tx->buf - tx->len) / 2) {
        tx->overflow = true;
        return;
    }
    for (size_t i = 0; i < len; i++) {
        tx->buf[tx->len++] = (uint8_t)digits[p[i] >> 4];
        tx->buf[tx->len++] = (uint8_t)digits[p[i] & 15];
    }
}

void glint_gdb_tx_printf(glint_gdb_tx *tx, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        tx->overflow = true;
        return;
    }
    glint_gdb_tx_bytes(tx, tmp, (size_t)n);
}

size_t glint_gdb_frame(const glint_gdb_tx *tx, uint8_t *out, size_t out_size) {
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;
    uint8_t sum = 0;
    if (out_size < 4) return 0;
    out[n++] = '$';
    for (size_t i = 0; i < tx->len; i++) {
        uint8_t c = tx->buf[i];
        bool esc = c == '$' || c == '#' || c == '}' || c == '*';
        if (out_size - n < (esc ? 2u : 1u) + 3u) return 0;
        if (esc) {
            out[n++] = '}';
            sum = (uint8_t)(sum + '}');
            c ^= 0x20;
        }
        out[n++] = c;
        sum = (uint8_t)(sum + c);
    }
    out[n++] = '#';
    out[n++] = (uint8_t)digits[sum >> 4];
    out[n++] = (uint8_t)digits[sum & 15];
    return n;
}

bool glint_gdb_parse_hex_u64(const char *s, const char **end, uint64_t *out) {
    uint64_t v = 0;
    size_t n = 0;
    int d;
    while ((d = glint_gdb_hex_digit((uint8_t)s[n])) >= 0) {
        if (v >> 60) return false; /* another digit would overflow */
        v = v << 4 | (uint64_t)d;
        n++;
    }
    if (n == 0) return false;
    if (end != NULL) *end = s + n;
    *out = v;
    return true;
}

bool glint_gdb_decode_hex(const char *s, size_t digits, uint8_t *out, size_t out_size,
                          size_t *out_len) {
    if (digits % 2 != 0 || digits / 2 > out_size) return false;
    for (size_t i = 0; i < digits / 2; i++) {
        int hi = glint_gdb_hex_digit((uint8_t)s[2 * i]);
        int lo = hi < 0 ? -1 : glint_gdb_hex_digit((uint8_t)s[2 * i + 1]);
        if (lo < 0) return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len != NULL) *out_len = digits / 2;
    return true;
}
