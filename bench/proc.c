/* One run: a receiver process and a sender process, forked fresh so that each one's peak RSS
 * is its own. Start is synchronised with pipes; the parent bounds everything with a deadline. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

struct pipes {
    int ready[2];  /* RX -> parent: bound and listening */
    int res[2][2]; /* [side]: child -> parent, struct child_result */
    int done[2];   /* parent closes its end: children may close their endpoints */
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        (void)close(*fd);
    *fd = -1;
}

static void close_pipes(struct pipes *p)
{
    close_fd(&p->ready[0]);
    close_fd(&p->ready[1]);
    for (int s = 0; s < 2; s++) {
        close_fd(&p->res[s][0]);
        close_fd(&p->res[s][1]);
    }
    close_fd(&p->done[0]);
    close_fd(&p->done[1]);
}

static int open_pipes(struct pipes *p)
{
    int *all[4];

    memset(p, -1, sizeof *p); /* every descriptor -1 */
    all[0] = p->ready;
    all[1] = p->res[0];
    all[2] = p->res[1];
    all[3] = p->done;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (pipe(all[i]) == -1) {
            close_pipes(p);
            return -1;
        }
    }
    return 0;
}

static void child_main(const struct job *job, struct link *lk, int side, struct pipes *p)
{
    struct child_result res;
    struct ep *ep = NULL;
    int res_w = p->res[side][1], ready_w = p->ready[1], done_r = p->done[0];
    char c;

    memset(&res, 0, sizeof res);
    p->res[side][1] = p->ready[1] = p->done[0] = -1;
    close_pipes(p);
    (void)bench_pin(side == SIDE_RX ? 0 : 1);
    link_keep_side(lk, side);
    if (job->t->open(lk, side, job, &ep) == -1) {
        snprintf(res.err, sizeof res.err, "open: %s", strerror(errno));
    } else {
        if (side == SIDE_RX)
            (void)!write(ready_w, "r", 1);
        res.ok = role_run(job, ep, side, &res) == 0;
    }
    (void)!write(res_w, &res, sizeof res);
    while (read(done_r, &c, 1) == -1 && errno == EINTR)
        ;
    if (ep != NULL)
        job->t->close(ep);
    _exit(res.ok ? 0 : 1);
}

/* Reads exactly len bytes before the deadline: 0, or -1 (EOF, error, time out). */
static int read_by(int fd, void *buf, size_t len, int64_t deadline)
{
    size_t got = 0;

    while (got < len) {
        int64_t left = (deadline - bench_now_ns()) / 1000000;
        struct pollfd pf = {.fd = fd, .events = POLLIN, .revents = 0};
        ssize_t n;
        if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if ((n = read(fd, (char *)buf + got, len - got)) == -1 && errno == EINTR)
            continue;
        if (n <= 0) {
            errno = n == 0 ? EPIPE : errno;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static void collect(pid_t pid, int ok_so_far, long *rss_kib, struct run_result *out,
                    const char *who)
{
    struct rusage ru;
    int status = 0;

    if (!ok_so_far)
        (void)kill(pid, SIGKILL);
    while (wait4(pid, &status, 0, &ru) == -1 && errno == EINTR)
        ;
    *rss_kib = ru.ru_maxrss;
    if (ok_so_far && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) && out->ok) {
        out->ok = 0;
        snprintf(out->err, sizeof out->err, "%s exited with status 0x%x", who, status);
    }
}

static void set_err(struct run_result *out, const char *who, const char *what)
{
    if (out->ok || out->err[0] == '\0')
        snprintf(out->err, sizeof out->err, "%s: %s", who, what);
    out->ok = 0;
}

/* Waits for the result of each side in `want`, whichever comes first; stops at a failure. */
static void read_results(struct pipes *p, const int want[2], int64_t deadline,
                         struct child_result cr[2], struct run_result *out)
{
    static const char *const who[2] = {"sender", "receiver"};
    int got[2] = {!want[0], !want[1]};

    while (out->ok && !(got[0] && got[1])) {
        struct pollfd pf[2];
        int64_t left = (deadline - bench_now_ns()) / 1000000;
        for (int s = 0; s < 2; s++) {
            pf[s].fd = got[s] ? -1 : p->res[s][0];
            pf[s].events = POLLIN;
            pf[s].revents = 0;
        }
        if (left <= 0 || poll(pf, 2, (int)left) <= 0) {
            set_err(out, got[SIDE_RX] ? who[SIDE_TX] : who[SIDE_RX], "timed out");
            return;
        }
        for (int s = 0; s < 2 && out->ok; s++) {
            if (pf[s].revents == 0)
                continue;
            got[s] = 1;
            if (read_by(p->res[s][0], &cr[s], sizeof cr[s], deadline) == -1)
                set_err(out, who[s], "died without a result");
            else if (!cr[s].ok)
                set_err(out, who[s], cr[s].err);
        }
    }
}

static pid_t spawn(const struct job *job, struct link *lk, int side, struct pipes *p)
{
    pid_t pid = fork();

    if (pid == 0)
        child_main(job, lk, side, p);
    return pid;
}

static void finish(const struct job *job, struct child_result cr[2], struct run_result *out)
{
    out->seconds = (double)(cr[SIDE_RX].t_end - cr[SIDE_TX].t_start) / 1e9;
    if (job->kind == KIND_LATENCY) {
        out->seconds = (double)(cr[SIDE_TX].t_end - cr[SIDE_TX].t_start) / 1e9;
        out->rtt_p50_ns = cr[SIDE_TX].rtt_p50_ns;
        out->rtt_p99_ns = cr[SIDE_TX].rtt_p99_ns;
    }
}

void proc_run(const struct job *job, int timeout_s, struct run_result *out)
{
    int64_t deadline = bench_now_ns() + (int64_t)timeout_s * 1000000000;
    struct child_result cr[2];
    struct pipes p;
    struct link lk;
    pid_t pid[2] = {-1, -1};
    char c;

    memset(out, 0, sizeof *out);
    memset(cr, 0, sizeof cr);
    out->ok = 1;
    link_init(&lk);
    if (open_pipes(&p) == -1 || job->t->prepare(&lk, job->payload) == -1) {
        set_err(out, "prepare", strerror(errno));
        close_pipes(&p);
        link_release(&lk);
        return;
    }
    if ((pid[SIDE_RX] = spawn(job, &lk, SIDE_RX, &p)) == -1)
        set_err(out, "fork", strerror(errno));
    close_fd(&p.ready[1]);
    close_fd(&p.res[SIDE_RX][1]);
    if (out->ok && read_by(p.ready[0], &c, 1, deadline) == -1) {
        int want[2] = {0, 1};
        read_results(&p, want, deadline, cr, out);
        set_err(out, "receiver", "did not start");
    }
    if (out->ok && (pid[SIDE_TX] = spawn(job, &lk, SIDE_TX, &p)) == -1)
        set_err(out, "fork", strerror(errno));
    close_fd(&p.res[SIDE_TX][1]);
    close_fd(&p.done[0]);
    link_close_fds(&lk);
    if (out->ok) {
        int want[2] = {1, 1};
        read_results(&p, want, deadline, cr, out);
    }
    close_fd(&p.done[1]);
    if (pid[SIDE_TX] > 0)
        collect(pid[SIDE_TX], out->ok, &out->rss_tx_kib, out, "sender");
    if (pid[SIDE_RX] > 0)
        collect(pid[SIDE_RX], out->ok, &out->rss_rx_kib, out, "receiver");
    close_pipes(&p);
    link_release(&lk);
    if (out->ok)
        finish(job, cr, out);
}
