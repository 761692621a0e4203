/* The set of open descriptors, probed without counting: test runners and fuzz engines hold
 * descriptors of their own, so tests compare sets taken before and after. */
#ifndef SOCKSPEC_FDSET_H
#define SOCKSPEC_FDSET_H

#include <stddef.h>

#define FDSET_MAX 4096

struct fdset {
    unsigned char open[FDSET_MAX];
    int limit; /* slots 0..limit-1 were probed */
};

/* Probes 0..window-1 (at most FDSET_MAX, and at most RLIMIT_NOFILE) with one poll(2):
 * 0, or -1 with errno when poll fails. */
int fdset_probe_window(struct fdset *s, int window);
/* fdset_probe_window(s, FDSET_MAX). */
int fdset_probe(struct fdset *s);
/* 1 if after holds descriptors that before did not; lists them into buf ("5,7"). */
int fdset_diff(const struct fdset *before, const struct fdset *after, char *buf, size_t len);
/* The first descriptor open in one set and closed in the other, or -1. */
int fdset_first_change(const struct fdset *a, const struct fdset *b);

#endif
