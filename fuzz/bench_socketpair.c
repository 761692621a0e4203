/* bench_socketpair: baseline for ci/fuzz --bench: one socketpair, write the input, read it. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "fuzz_common.h"

#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[4096];
    int sv[2];
    if (size > sizeof buf)
        size = sizeof buf;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 0;
    if (send(sv[0], data, size, fz_nosignal_flag()) > 0 && read(sv[1], buf, sizeof buf) < 0)
        fz_fail("bench_socketpair", "read failed");
    close(sv[0]);
    close(sv[1]);
    return 0;
}
