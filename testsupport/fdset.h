/* The set of open descriptors, probed without counting: test runners and fuzz engines hold
 * descriptors of their own, so tests compare sets taken before and after. */
#ifndef SOCKSPEC_FDSET_H
#define SOCKSPEC_FDSET_H

#include <stddef.h>

#define FDSET_MAX 4096

struct fdset {
    unsigned char open[FDSET_MAX];
    int limit;
};

/* 0, or -1 with errno when poll() fails. */
int fdset_probe(struct fdset *s);
/* 1 if after holds descriptors that before did not; lists them into buf. */
int fdset_diff(const struct fdset *before, const struct fdset *after, char *buf, size_t len);

#endif
