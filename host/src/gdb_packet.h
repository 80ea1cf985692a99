/*
 * gdb_packet.h - framing of gdb's Remote Serial Protocol: the receive state
 * machine that turns the bytes of a connection into checked packets, and the
 * encoder of replies.  No I/O, no allocation, no globals; every buffer has a
 * fixed size and a packet that would overflow it is dropped (and NAKed), never
 * written past the end.
 *
 * Wire format: '$' payload '#' two hex digits (sum of the payload bytes mod
 * 256).  In the payload '}' escapes the next byte (XOR 0x20).  The peer
 * acknowledges a packet with '+', asks for a resend with '-'; after
 * QStartNoAckMode neither is sent.  A lone 0x03 outside a packet is gdb's
 * interrupt request (Ctrl-C).
 */
#ifndef GLINT_GDB_PACKET_H
#define GLINT_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest payload accepted or sent (after unescaping); advertised to gdb as
 * PacketSize, so that its memory writes and register packets fit. */
#define GLINT_GDB_PACKET_MAX 16384u

typedef enum glint_gdb_rx_event {
    GLINT_GDB_RX_NONE,      /* byte consumed, nothing complete yet */
    GLINT_GDB_RX_PACKET,    /* a packet with a good checksum is in rx->buf[0..len) */
    GLINT_GDB_RX_BAD,       /* a packet was malformed, too long or had a bad checksum */
    GLINT_GDB_RX_INTERRUPT, /* 0x03 outside a packet */
    GLINT_GDB_RX_ACK,       /* '+' outside a packet */
    GLINT_GDB_RX_NAK        /* '-' outside a packet: resend the last reply */
} glint_gdb_rx_event;

typedef struct glint_gdb_rx {
    int state; /* private */
    bool escape;
    bool overflow;
    uint8_t sum;
    uint8_t check;
    size_t len;
    uint8_t buf[GLINT_GDB_PACKET_MAX + 1]; /* payload, NUL terminated for convenience */
} glint_gdb_rx;

void glint_gdb_rx_init(glint_gdb_rx *rx);
/* Feeds one byte.  After GLINT_GDB_RX_PACKET the payload stays valid until
 * the next call.  Bytes between packets other than '+', '-', 0x03 are
 * ignored (gdb sends none; line noise must not confuse the machine). */
glint_gdb_rx_event glint_gdb_rx_byte(glint_gdb_rx *rx, uint8_t byte);

/* A reply under construction.  Appends past the payload limit set
 * `overflow`; the caller replies with an error instead. */
typedef struct glint_gdb_tx {
    size_t len;
    bool overflow;
    uint8_t buf[GLINT_GDB_PACKET_MAX];
} glint_gdb_tx;

void glint_gdb_tx_reset(glint_gdb_tx *tx);
void glint_gdb_tx_str(glint_gdb_tx *tx, const char *s);
void glint_gdb_tx_bytes(glint_gdb_tx *tx, const void *data, size_t len);
/* Appends len bytes as 2*len lowercase hex digits. */
void glint_gdb_tx_hex(glint_gdb_tx *tx, const void *data, size_t len);
void glint_gdb_tx_printf(glint_gdb_tx *tx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frames tx's payload into out ('$', escaped payload, '#', checksum);
 * returns the frame's length, or 0 if it does not fit out_size.  Escapes
 * '$', '#', '}' and '*' so that a reply is never mistaken for run-length
 * encoding.  2 * GLINT_GDB_PACKET_MAX + 4 bytes are always enough. */
#define GLINT_GDB_FRAME_MAX (2u * GLINT_GDB_PACKET_MAX + 4u)
size_t glint_gdb_frame(const glint_gdb_tx *tx, uint8_t *out, size_t out_size);

/* Hex helpers.  Return false on a non-hex digit, an empty number or a value
 * that does not fit; *end (if non-NULL) gets the first unparsed byte. */
int glint_gdb_hex_digit(uint8_t c);
bool glint_gdb_parse_hex_u64(const char *s, const char **end, uint64_t *out);
/* Decodes exactly 2*len hex digits at s into out. */
bool glint_gdb_decode_hex(const char *s, size_t digits, uint8_t *out, size_t out_size,
                          size_t *out_len);

#endif /* GLINT_GDB_PACKET_H */
