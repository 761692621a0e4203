/*
 * The expectations table: one row per check, one column per OS, kept as one file per
 * category (expectations/<category>.tsv, the category being the id's prefix):
 *   id  statement  linux  freebsd  netbsd  openbsd  darwin  source
 * A cell is a value, alternatives "A|B", a bound ">=N" or ">N", a prefix "unsupported: *",
 * "*" (any value, recorded: the OS leaves it open) or "?" (not documented for that OS:
 * observed, not judged). Outcomes therefore never contain "|": join flags with "+".
 */
#ifndef SOCKSPEC_EXPECT_H
#define SOCKSPEC_EXPECT_H

enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_OBSERVE };

struct expect_cell {
    char value[160];
    char os[64];
    char statement[256];
    char source[512];
};

/* Fills cell for this OS; fails the test when the row is missing. */
void expect_lookup(const char *id, struct expect_cell *cell);
int expect_cell_unsupported(const struct expect_cell *cell);
enum verdict expect_judge(const struct expect_cell *cell, const char *observed);
const char *verdict_name(enum verdict v);
/* "linux", "freebsd", "netbsd", "openbsd", "darwin", or the lowercased uname sysname. */
const char *expect_os(void);

#endif
