/*
 * What both runners share: sockspec's own options, the observation file the instances append
 * to, and the end of a run (summary, results file, catalogue, data lint).
 *   --results=FILE    write the machine-readable results of this run (results.h)
 *   --observe-only    record outcomes without judging them
 *   --allow-empty     succeed even when the filter selects no instance
 *   --platform=ID     run as this platforms.tsv entry (an implementation: gvisor, ...)
 *   --catalogue=FILE  write the catalogue (checks, statements, kinds) and exit
 *   --lint            check the expectation data against the registered instances and exit
 */
#ifndef SOCKSPEC_RUNNER_H
#define SOCKSPEC_RUNNER_H

#include <stdio.h>

#include "results.h"

struct run_options {
    const char *results, *catalogue;
    int allow_empty, lint;
};

/* Takes sockspec's options out of argv; the rest belongs to the runner. */
void runner_take_options(int *argc, char **argv, struct run_options *o);
/* Creates the observation file and points SOCKSPEC_OBS_FILE at it: its path, or NULL. */
const char *runner_obs_begin(void);
/* Handles --catalogue and --lint: -1 when neither was asked, else the exit status. */
int runner_special(const struct run_options *o);
/* Merges the observations, prints the summary, writes the results file, removes the
 * observation file: the exit status, given the runner's own (rc). */
int runner_finish(struct results *r, double seconds, const struct run_options *o, int rc,
                  const char *obs);
double runner_now(void);

/* The data lint (lint.c): 0 when clean; findings on out. */
int lint_run(FILE *out);

#endif
