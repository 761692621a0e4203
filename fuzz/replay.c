/*
 * Engine-free driver: runs every file named on the command line, and every regular file
 * of every directory named, through LLVMFuzzerTestOneInput. A missing directory is
 * reported and skipped (git keeps no empty directories). Traces are on (FZ_TRACE=1);
 * FZ_TRACE_ALL=1 prints the trace of every input.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long ran;
static unsigned timeout_s = 10;
static const char *current = "";

static void say(const char *a, const char *b)
{
    if (write(2, a, strlen(a)) < 0 || write(2, b, strlen(b)) < 0 || write(2, "\n", 1) < 0)
        return; /* nowhere left to report to */
}

/* Names the input that failed; abort() then ends the process as usual. */
static void on_abort(int sig)
{
    (void)sig;
    say("replay: failing input: ", current);
}

/* A watchdog per input: a harness or library that blocks fails the test instead of hanging. */
static void on_alarm(int sig)
{
    (void)sig;
    say("\nreplay: input timed out (blocked or looping): ", current);
    signal(SIGABRT, SIG_DFL);
    abort();
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        fprintf(stderr, "replay: %s: read failed\n", path);
        return -1;
    }
    /* An exact-size copy so that sanitizers see reads past the end of the input. */
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    current = path;
    alarm(timeout_s);
    LLVMFuzzerTestOneInput(exact, len);
    alarm(0);
    free(exact);
    if (getenv("FZ_TRACE_ALL")) {
        fprintf(stderr, "== %s\n", path);
        fz_trace_print();
    }
    ran++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *dir, char ***names, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t cap = 0;
    struct dirent *ent;
    *names = NULL;
    *count = 0;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        if (*count == cap) {
            char **nn = realloc(*names, (cap = cap ? cap * 2 : 64) * sizeof *nn);
            if (!nn)
                break;
            *names = nn;
        }
        size_t len = strlen(dir) + strlen(ent->d_name) + 2;
        char *path = malloc(len);
        if (!path)
            break;
        snprintf(path, len, "%s/%s", dir, ent->d_name);
        (*names)[(*count)++] = path;
    }
    closedir(d);
    if (*count)
        qsort(*names, *count, sizeof **names, by_name);
    return 0;
}

static int run_dir(const char *dir)
{
    char **names;
    size_t count;
    if (list_dir(dir, &names, &count) < 0) {
        fprintf(stderr, "replay: %s: %s (skipped)\n", dir, strerror(errno));
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && run_file(names[i]) < 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    const char *t = getenv("FZ_REPLAY_TIMEOUT");
    setenv("FZ_TRACE", "1", 0);
    long secs = t ? strtol(t, NULL, 10) : 0;
    if (secs > 0 && secs < 86400)
        timeout_s = (unsigned)secs;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_abort;
    sigaction(SIGABRT, &sa, NULL);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode))
            rc |= run_file(argv[i]) < 0;
        else
            rc |= run_dir(argv[i]) < 0;
    }
    printf("replay: %lu inputs ran without a failure\n", ran);
    return rc ? 1 : 0;
}
