/* Test helpers: leak checks run last in every test body, socket pairs, a pump loop. */
#ifndef FRAME_TEST_UTIL_H
#define FRAME_TEST_UTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"

#define TEST_TIMEOUT 30

/* Snapshot of open descriptors; call from .init. */
void util_begin(void);
/* Fails the test on a descriptor leak, an LSan leak, or a valgrind error. Call last. */
void util_end(void);

void util_pair(int type, int sv[2]);
void util_nonblock(int fd);
void util_close(int fd);
int util_is_open(int fd);
/* Same open file description target: same device and inode. */
int util_same_file(int a, int b);
int util_is_cloexec(int fd);

/* Deterministic payload byte i of message id. */
unsigned char util_byte(uint32_t id, size_t i);
void util_fill(void *buf, size_t len, uint32_t id);
int util_check(const void *buf, size_t len, uint32_t id);

/* xorshift64*: seeded, reproducible. */
uint64_t util_rand(uint64_t *state);

/* Moves bytes tx -> rx on non-blocking sockets until rx yields a message: 1, 0 on EOF, -1. */
int util_pump(struct frame_chan *tx, struct frame_chan *rx, struct frame_msg *msg);

/* Two channels on the ends of a non-blocking pair of the given type; fails the test if any
 * step fails. util_duo_close finishes both channels and closes both sockets. */
struct util_duo {
    int sv[2];
    struct frame_chan a, b;
};
void util_duo_open(struct util_duo *d, int type, const struct frame_opts *oa,
                   const struct frame_opts *ob);
void util_duo_close(struct util_duo *d);

/* Raw sendmsg of bytes and descriptors, bypassing the library. */
ssize_t util_raw_send(int fd, const void *buf, size_t len, const int *fds, unsigned nfds);

#endif
