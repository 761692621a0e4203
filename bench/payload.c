/* Message content and its verification: count, order (sequence numbers) and content. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void payload_fill(unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i * 131u + 7u + (i >> 8));
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static void store64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

void payload_stamp(unsigned char *p, size_t len, uint64_t seq)
{
    store64(p, seq);
    store64(p + len - 8, ~seq);
}

/* Fletcher-style sums over 64-bit words in four lanes: position-sensitive and cheap next to
 * the copy through the kernel. len is a multiple of 8. */
uint64_t payload_checksum(const unsigned char *p, size_t len)
{
    uint64_t a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
    size_t i = 0;

    for (; i + 32 <= len; i += 32) {
        for (int j = 0; j < 4; j++) {
            a[j] += load64(p + i + 8 * (size_t)j);
            b[j] += a[j];
        }
    }
    for (; i + 8 <= len; i += 8) {
        a[0] += load64(p + i);
        b[0] += a[0];
    }
    return (a[0] ^ b[0] * 3) + (a[1] ^ b[1] * 5) * 7 + (a[2] ^ b[2] * 11) * 13 +
           (a[3] ^ b[3] * 17) * 19;
}

int payload_check_init(struct payload_check *pc, size_t len)
{
    unsigned char *buf = malloc(len);

    if (buf == NULL)
        return -1;
    pc->len = len;
    payload_fill(buf, len);
    pc->middle_sum = payload_checksum(buf + 8, len - 16);
    free(buf);
    return 0;
}

int payload_verify(const struct payload_check *pc, const unsigned char *p, size_t len, uint64_t seq,
                   char *err, size_t errlen)
{
    if (len != pc->len) {
        snprintf(err, errlen, "message %llu: length %zu, expected %zu", (unsigned long long)seq,
                 len, pc->len);
        return -1;
    }
    uint64_t head = load64(p), tail = ~load64(p + len - 8);

    if (head != seq || tail != seq) {
        snprintf(err, errlen, "message %llu: sequence %llu/%llu (lost, duplicated or reordered)",
                 (unsigned long long)seq, (unsigned long long)head, (unsigned long long)tail);
        return -1;
    }
    if (payload_checksum(p + 8, len - 16) != pc->middle_sum) {
        snprintf(err, errlen, "message %llu: checksum mismatch", (unsigned long long)seq);
        return -1;
    }
    return 0;
}
