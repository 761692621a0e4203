/* Ancillary data: SCM_RIGHTS descriptor passing and the peer-credential APIs of each OS. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sockspec_config.h" /* before the feature tests below */
#ifdef SOCKSPEC_HAVE_LOCAL_PEERCRED
#include <sys/ucred.h>
#endif

#include "harness.h"
#include "check_util.h"

#define CATEGORY ancillary

#define AN_MAXFDS 300
union an_ctl {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * AN_MAXFDS) + 64];
};

static void msg_init(struct msghdr *m, struct iovec *iov, void *data, size_t len, void *ctl,
                     size_t ctllen)
{
    memset(m, 0, sizeof *m);
    iov->iov_base = data;
    iov->iov_len = len;
    m->msg_iov = iov;
    m->msg_iovlen = 1;
    m->msg_control = ctllen ? ctl : NULL;
    m->msg_controllen = (socklen_t)ctllen;
}

/* Fills cm as a SOL_SOCKET control message of the type carrying len bytes of data. */
static void cmsg_put(struct cmsghdr *cm, int type, const void *data, size_t len)
{
    REQUIRE(cm != NULL, "no room for the control message");
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = type;
    cm->cmsg_len = CMSG_LEN(len);
    if (len > 0)
        memcpy(CMSG_DATA(cm), data, len);
}

/* A message of one byte "x" from the control buffer ctl with ctllen bytes of room, of which
 * the first control message (type, data) is filled in. */
static void msg_with_cmsg(struct msghdr *m, struct iovec *iov, union an_ctl *ctl, size_t ctllen,
                          int type, const void *data, size_t len)
{
    memset(ctl, 0, sizeof *ctl);
    msg_init(m, iov, "x", 1, ctl->buf, ctllen);
    cmsg_put(CMSG_FIRSTHDR(m), type, data, len);
}

/* sendmsg() of len bytes with one SCM_RIGHTS message carrying n descriptors; -1 and errno. */
static ssize_t send_fds(int fd, const int *fds, int n, const void *data, size_t len)
{
    union an_ctl ctl;
    struct msghdr m;
    struct iovec iov;
    size_t fdbytes = sizeof(int) * (size_t)n;
    REQUIRE(n >= 0 && n <= AN_MAXFDS);
    memset(&ctl, 0, sizeof ctl);
    msg_init(&m, &iov, (void *)(uintptr_t)data, len, ctl.buf, CMSG_SPACE(fdbytes));
    cmsg_put(CMSG_FIRSTHDR(&m), SCM_RIGHTS, fds, fdbytes);
    return sendmsg(fd, &m, ss_nosignal);
}

/* Sends "x" with descriptor fd from a; fatal unless the byte went. */
static void send_one_fd(struct chan *c, int fd)
{
    REQUIRE(send_fds(c->a, &fd, 1, "x", 1) == 1, "sendmsg: %s", sockspec_errno_name(errno));
}

struct rcvd {
    ssize_t r;      /* recvmsg result */
    int err;        /* errno when r < 0 */
    int nfds;       /* descriptors received (all SCM_RIGHTS messages) */
    int bogus;      /* SCM_RIGHTS entries that were not new descriptors of this process */
    int unreported; /* descriptors the receive installed without reporting them (closed) */
    int ncmsg;      /* control messages received */
    int flags;      /* msg_flags, without INPUT_ONLY_FLAGS (some OSes echo the flags argument) */
    int fds[AN_MAXFDS];
};

/* Takes the SCM_RIGHTS entries of one control message that are descriptors the receive
 * installed (open now, not before): only those are counted and later closed. A truncated
 * cmsg_len is bounded by the buffer; other entries (raw kernel data some OSes hand back on a
 * peek) are counted as bogus and never closed. */
static void take_fds(struct rcvd *out, const struct msghdr *m, struct cmsghdr *cm,
                     const struct fdset *before)
{
    const unsigned char *data = CMSG_DATA(cm);
    const unsigned char *end = (const unsigned char *)m->msg_control + m->msg_controllen;
    size_t bytes = cm->cmsg_len - CMSG_LEN(0);
    if (data + bytes > end)
        bytes = data < end ? (size_t)(end - data) : 0;
    for (size_t i = 0; i + sizeof(int) <= bytes; i += sizeof(int)) {
        int fd;
        memcpy(&fd, data + i, sizeof fd);
        int is_new = fd >= 0 && fd < before->limit && !before->open[fd] && fd_is_open(fd);
        for (int k = 0; k < out->nfds && is_new; k++)
            is_new = out->fds[k] != fd;
        if (!is_new) {
            out->bogus++;
            continue;
        }
        REQUIRE(out->nfds < AN_MAXFDS, "too many descriptors");
        out->fds[out->nfds++] = fd;
    }
}

/* Closes (and counts) descriptors that appeared during the receive but were not reported in
 * its control data: the receiver could never have found them. */
static void close_unreported(struct rcvd *out, const struct fdset *before)
{
    struct fdset now;
    REQUIRE(fdset_probe(&now) == 0, "descriptor probe: %s", sockspec_errno_name(errno));
    for (int fd = 0; fd < now.limit; fd++) {
        int reported = 0;
        for (int k = 0; k < out->nfds && !reported; k++)
            reported = out->fds[k] == fd;
        if (now.open[fd] && !reported && (fd >= before->limit || !before->open[fd])) {
            close(fd);
            out->unreported++;
        }
    }
}

/* Waits (bounded) for fd to be readable, then one recvmsg() with a ctllen-byte control buffer. */
static void recv_fds(int fd, void *data, size_t len, size_t ctllen, int flags, struct rcvd *out)
{
    union an_ctl ctl;
    struct msghdr m;
    struct iovec iov;
    struct fdset before;
    REQUIRE(ctllen <= sizeof ctl.buf);
    memset(out, 0, sizeof *out);
    memset(&ctl, 0, sizeof ctl);
    REQUIRE(fdset_probe(&before) == 0, "descriptor probe: %s", sockspec_errno_name(errno));
    (void)poll_events(fd, POLLIN, 2000);
    msg_init(&m, &iov, data, len, ctl.buf, ctllen);
    out->r = recvmsg(fd, &m, flags | MSG_DONTWAIT);
    out->err = errno;
    if (out->r < 0)
        return;
    out->flags = m.msg_flags & ~(flags | MSG_DONTWAIT); /* the BSDs echo what was passed in */
    if (m.msg_controllen == 0 || m.msg_control == NULL) {
        close_unreported(out, &before);
        return;
    }
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
        out->ncmsg++;
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            take_fds(out, &m, cm, &before);
    }
    close_unreported(out, &before);
}

static void close_rcvd(struct rcvd *r)
{
    for (int i = 0; i < r->nfds; i++)
        if (r->fds[i] >= 0)
            close(r->fds[i]);
    r->nfds = 0;
}

/* Receives the one-byte message on b with room for one descriptor; fatal unless one came. */
static void recv_one_fd(struct chan *c, int flags, struct rcvd *r)
{
    char buf[4];
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(sizeof(int)), flags, r);
    REQUIRE(r->nfds == 1, "received %d descriptors", r->nfds);
}

/* Closes the received descriptors and both ends of the pipe p. */
static void close_all(struct rcvd *r, int p[2])
{
    if (r)
        close_rcvd(r);
    close(p[0]);
    close(p[1]);
}

/* "<n> bytes+<m> fds" or the errno name of a receive. */
static void bytes_fds_outcome(struct chan *c, const struct rcvd *r)
{
    if (r->r < 0)
        outcome(c, "%s", sockspec_errno_name(r->err));
    else
        outcome(c, "%zd bytes+%d fds", r->r, r->nfds);
}

/* "<n>", "<n>+MSG_CTRUNC", with "+<k> not descriptors" when entries were not installed
 * descriptors, or the errno name of a receive. */
static void rcvd_outcome(struct chan *c, const struct rcvd *r)
{
    char odd[64] = "";
    if (r->bogus)
        snprintf(odd, sizeof odd, "+%d not descriptors", r->bogus);
    if (r->unreported)
        snprintf(odd + strlen(odd), sizeof odd - strlen(odd), "+%d unreported", r->unreported);
    if (r->r < 0)
        outcome(c, "%s", sockspec_errno_name(r->err));
    else
        outcome(c, "%d%s%s", r->nfds, (r->flags & MSG_CTRUNC) ? "+MSG_CTRUNC" : "", odd);
}

static int same_file(int x, int y)
{
    struct stat sx, sy;
    REQUIRE(fstat(x, &sx) == 0 && fstat(y, &sy) == 0, "fstat: %s", sockspec_errno_name(errno));
    return sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino;
}

/* Sends n copies of one pipe end, receives them: the number of descriptors received. */
static void pass_n(struct chan *c, int n)
{
    int p[2], fds[AN_MAXFDS];
    char buf[8];
    struct rcvd r;
    xpipe(p);
    for (int i = 0; i < n; i++)
        fds[i] = p[i % 2];
    ssize_t s = send_fds(c->a, fds, n, "x", 1);
    if (s < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        close_all(NULL, p);
        return;
    }
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(sizeof(int) * (size_t)n), 0, &r);
    for (int i = 0; i < r.nfds && i < n; i++)
        EXPECT(same_file(r.fds[i], fds[i]), "descriptor %d is another file", i);
    EXPECT(n == 0 || r.ncmsg == 1, "%d control messages", r.ncmsg);
    rcvd_outcome(c, &r);
    close_all(&r, p);
}

/* ---- SCM_RIGHTS counts ---- */

CHECK(rights_one_fd, "One descriptor passes on every AF_UNIX type: \"1\".")
{
    pass_n(c, 1);
}
INSTANTIATE(rights_one_fd, KINDS_MIX_UNIX)

CHECK(rights_two_fds, "Two descriptors in one message: \"2\".")
{
    pass_n(c, 2);
}
INSTANTIATE(rights_two_fds, KINDS_MIX_SP)

CHECK(rights_three_fds, "Three descriptors in one message: \"3\".")
{
    pass_n(c, 3);
}
INSTANTIATE(rights_three_fds, KINDS_MIX_SP)

CHECK(rights_sixteen_fds, "Sixteen descriptors in one message: \"16\".")
{
    pass_n(c, 16);
}
INSTANTIATE(rights_sixteen_fds, KINDS_MIX_SP)

CHECK(rights_253_fds, "253 descriptors (Linux SCM_MAX_FD) in one message: \"253\".")
{
    pass_n(c, 253);
}
INSTANTIATE(rights_253_fds, KINDS_SP_STREAM_DGRAM)

CHECK(rights_254_fds, "254 descriptors, one beyond Linux SCM_MAX_FD: sendmsg fails with EINVAL.")
{
    pass_n(c, 254);
}
INSTANTIATE(rights_254_fds, KINDS_SP_STREAM_DGRAM)

CHECK(rights_zero_fds,
      "An SCM_RIGHTS message with no descriptors (cmsg_len = CMSG_LEN(0)) delivers none: \"0\".")
{
    pass_n(c, 0);
}
INSTANTIATE(rights_zero_fds, KINDS_SP_STREAM_ONLY)

/* ---- the received descriptors ---- */

CHECK(rights_same_file,
      "A received descriptor refers to the same file (st_dev and st_ino equal): \"same\".")
{
    /* A regular file, not a pipe: some OSes give every pipe st_dev and st_ino 0, so two
     * different pipes would compare the same. A second file tells "same" from "any". */
    int f = scratch_file(), other = scratch_file();
    struct rcvd r;
    send_one_fd(c, f);
    recv_one_fd(c, 0, &r);
    EXPECT(r.fds[0] != f, "the received descriptor reuses the sender's number");
    EXPECT(!same_file(f, other), "two scratch files compare the same");
    outcome(c, "%s", same_file(r.fds[0], f) ? "same" : "different");
    close_rcvd(&r);
    close(f);
    close(other);
}
INSTANTIATE(rights_same_file, KINDS_SP_PLAIN)

CHECK(rights_passed_pipe_usable,
      "Bytes written through a received pipe write end come out of the original read end: \"ok\".")
{
    int p[2];
    char in[8] = "";
    struct rcvd r;
    xpipe(p);
    send_one_fd(c, p[1]);
    xclose(&p[1]);
    recv_one_fd(c, 0, &r);
    ssize_t w = write(r.fds[0], "hello", 5);
    close_rcvd(&r);
    ssize_t n = read(p[0], in, sizeof in - 1);
    close(p[0]);
    outcome(c, "%s", w == 5 && n == 5 && memcmp(in, "hello", 5) == 0 ? "ok" : "broken");
}
INSTANTIATE(rights_passed_pipe_usable, KINDS_SP_STREAM_DGRAM)

CHECK(rights_socket_through_itself,
      "A socket end passed through itself keeps working after the original closes: \"ok\".")
{
    struct rcvd r;
    send_one_fd(c, c->a);
    recv_one_fd(c, 0, &r);
    EXPECT(same_file(r.fds[0], c->a), "not the same socket");
    xclose(&c->a);
    ssize_t s = send(r.fds[0], "z", 1, ss_nosignal);
    char in = 0;
    (void)poll_events(c->b, POLLIN, 2000);
    ssize_t n = recv(c->b, &in, 1, MSG_DONTWAIT);
    close_rcvd(&r);
    outcome(c, "%s", s == 1 && n == 1 && in == 'z' ? "ok" : "broken");
}
INSTANTIATE(rights_socket_through_itself, KINDS_SP_PLAIN)

CHECK(rights_in_flight_keeps_file_open,
      "A descriptor in flight keeps its file open: the pipe reader sees no hangup until the "
      "receiver closes it: \"none,POLLHUP\".")
{
    int p[2];
    char s1[64], s2[64];
    struct rcvd r;
    xpipe(p);
    send_one_fd(c, p[1]);
    xclose(&p[1]);
    revents_str(poll_events(p[0], POLLIN, 0), s1, sizeof s1);
    recv_one_fd(c, 0, &r);
    close_rcvd(&r);
    revents_str(poll_events(p[0], POLLIN, 2000), s2, sizeof s2);
    close(p[0]);
    outcome(c, "%s,%s", s1, s2);
}
INSTANTIATE(rights_in_flight_keeps_file_open, KINDS_SP_STREAM_DGRAM)

CHECK(rights_released_with_receiver, "Closing the receiver with a descriptor still queued releases "
                                     "it: the pipe reader gets POLLHUP.")
{
    int p[2];
    char s[64];
    xpipe(p);
    send_one_fd(c, p[1]);
    xclose(&p[1]);
    xclose(&c->b);
    outcome(c, "%s", revents_str(poll_events(p[0], POLLIN, 2000), s, sizeof s));
    close(p[0]);
}
INSTANTIATE(rights_released_with_receiver, KINDS_MIX_SP)

/* ---- truncation and dropping ---- */

/* A fresh pipe p whose ends go from a as {p[0], p[1], p[0]} with the byte "x". */
static void send_three_fds(struct chan *c, int p[2])
{
    xpipe(p);
    int fds[3] = {p[0], p[1], p[0]};
    REQUIRE(send_fds(c->a, fds, 3, "x", 1) == 1, "sendmsg: %s", sockspec_errno_name(errno));
}

/* A fresh pipe p whose read end goes from a with "x", received on b with ctllen bytes of
 * control room and flags: records the descriptors received (rcvd_outcome). */
static void rcvd_one_fd_outcome(struct chan *c, size_t ctllen, int flags)
{
    int p[2];
    char buf[4];
    struct rcvd r;
    xpipe(p);
    send_one_fd(c, p[0]);
    recv_fds(c->b, buf, sizeof buf, ctllen, flags, &r);
    rcvd_outcome(c, &r);
    close_all(&r, p);
}

CHECK(ctrunc_two_of_three,
      "Control room for 2 of 3 descriptors: Linux delivers 2 and sets MSG_CTRUNC.")
{
    int p[2];
    char buf[4];
    struct rcvd r;
    send_three_fds(c, p);
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(2 * sizeof(int)), 0, &r);
    rcvd_outcome(c, &r);
    close_all(&r, p);
}
INSTANTIATE(ctrunc_two_of_three, KINDS_MIX_SP)

CHECK(ctrunc_without_control_buffer,
      "recvmsg() without a control buffer: no descriptor, MSG_CTRUNC: \"0+MSG_CTRUNC\".")
{
    rcvd_one_fd_outcome(c, 0, 0);
}
INSTANTIATE(ctrunc_without_control_buffer, KINDS_MIX_SP)

CHECK(read_drops_fds,
      "read() without a control buffer drops the passed descriptors: \"dropped\" (none installed).")
{
    int p[2];
    char buf[4];
    struct fdset before;
    xpipe(p);
    send_one_fd(c, p[0]);
    REQUIRE(fdset_probe(&before) == 0, "descriptor probe: %s", sockspec_errno_name(errno));
    (void)poll_events(c->b, POLLIN, 2000);
    ssize_t n = read(c->b, buf, sizeof buf);
    int installed = close_new_fds(&before);
    EXPECT(n == 1, "read returned %zd", n);
    if (installed == 0)
        outcome(c, "dropped");
    else
        outcome(c, "installed %d", installed);
    close_all(NULL, p);
}
INSTANTIATE(read_drops_fds, KINDS_MIX_SP)

CHECK(ctrunc_input_flag_ignored,
      "MSG_CTRUNC passed as an input flag is ignored: the descriptor arrives: \"1\".")
{
    rcvd_one_fd_outcome(c, CMSG_SPACE(sizeof(int)), MSG_CTRUNC);
}
INSTANTIATE(ctrunc_input_flag_ignored, KINDS_SP_STREAM_ONLY)

CHECK(rights_beyond_rlimit_nofile,
      "Fewer free descriptor slots (RLIMIT_NOFILE) than passed descriptors: Linux installs what "
      "fits and sets MSG_CTRUNC: \"1+MSG_CTRUNC\".")
{
    int p[2];
    char buf[4];
    struct rcvd r;
    struct rlimit old, lim;
    send_three_fds(c, p);
    /* The smallest limit that leaves exactly one free slot. */
    int free_slots = 0, limit = 0;
    for (; limit < 4096; limit++)
        if (!fd_is_open(limit) && ++free_slots == 2)
            break;
    REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
    lim = old;
    lim.rlim_cur = (rlim_t)limit;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &lim) == 0, "setrlimit: %s", sockspec_errno_name(errno));
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(3 * sizeof(int)), 0, &r);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &old) == 0, "setrlimit: %s", sockspec_errno_name(errno));
    rcvd_outcome(c, &r);
    close_all(&r, p);
}
INSTANTIATE(rights_beyond_rlimit_nofile, KINDS_SP_STREAM_DGRAM)

/* ---- errors when sending ---- */

CHECK(rights_closed_fd_ebadf, "Passing a closed descriptor: sendmsg fails with EBADF.")
{
    int bad = closed_fd();
    outcome_ret(c, send_fds(c->a, &bad, 1, "x", 1));
}
INSTANTIATE(rights_closed_fd_ebadf, KINDS_SP_PLAIN)

CHECK(rights_minus_one_ebadf, "Passing -1: sendmsg fails with EBADF.")
{
    int bad = -1;
    outcome_ret(c, send_fds(c->a, &bad, 1, "x", 1));
}
INSTANTIATE(rights_minus_one_ebadf, KINDS_SP_STREAM_ONLY)

CHECK(cmsg_len_too_small, "cmsg_len smaller than a cmsghdr: sendmsg fails with EINVAL (Linux).")
{
    union an_ctl ctl;
    struct msghdr m;
    struct iovec iov;
    msg_with_cmsg(&m, &iov, &ctl, CMSG_SPACE(sizeof(int)), SCM_RIGHTS, NULL, 0);
    CMSG_FIRSTHDR(&m)->cmsg_len = 1;
    outcome_ret(c, sendmsg(c->a, &m, ss_nosignal));
}
INSTANTIATE(cmsg_len_too_small, KINDS_SP_STREAM_ONLY)

/* SCM_RIGHTS over IP: "<sendmsg result>;<descriptors received>" (Linux: "1;0", dropped). */
static void rights_over_ip(struct chan *c)
{
    int p[2];
    char buf[4];
    struct rcvd r;
    xpipe(p);
    ssize_t s = send_fds(c->a, &p[0], 1, "x", 1);
    if (s < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
    } else {
        recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(sizeof(int)), 0, &r);
        outcome(c, "%zd;%d", s, r.nfds);
        close_rcvd(&r);
    }
    close_all(NULL, p);
}

CHECK(rights_over_inet, "SCM_RIGHTS over TCP or UDP: the bytes sent and the descriptors received: "
                        "\"<sent>;<received>\".")
{
    rights_over_ip(c);
}
INSTANTIATE(rights_over_inet, KINDS_TCP)
INSTANTIATE(rights_over_inet, KINDS_UDP)

CHECK(rights_two_cmsgs_one_send,
      "Two SCM_RIGHTS messages in one sendmsg: Linux merges them into one: \"2 fds in 1 cmsg\".")
{
    union an_ctl ctl;
    struct msghdr m;
    struct iovec iov;
    struct rcvd r;
    int p[2];
    char buf[4];
    xpipe(p);
    msg_with_cmsg(&m, &iov, &ctl, 2 * CMSG_SPACE(sizeof(int)), SCM_RIGHTS, &p[0], sizeof(int));
    cmsg_put(CMSG_NXTHDR(&m, CMSG_FIRSTHDR(&m)), SCM_RIGHTS, &p[1], sizeof(int));
    ssize_t s = sendmsg(c->a, &m, ss_nosignal);
    if (s < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
    } else {
        recv_fds(c->b, buf, sizeof buf, 2 * CMSG_SPACE(sizeof(int)), 0, &r);
        if (r.r < 0)
            outcome(c, "%s", sockspec_errno_name(r.err));
        else
            outcome(c, "%d fds in %d cmsg%s", r.nfds, r.ncmsg,
                    (r.flags & MSG_CTRUNC) ? " CTRUNC" : "");
        close_rcvd(&r);
    }
    close_all(NULL, p);
}
INSTANTIATE(rights_two_cmsgs_one_send, KINDS_MIX_SP)

CHECK(rights_control_longer_than_cmsg,
      "msg_controllen a few bytes longer than the one SCM_RIGHTS message: Linux accepts: \"1\".")
{
    union an_ctl ctl;
    struct msghdr m;
    struct iovec iov;
    struct rcvd r;
    int p[2];
    char buf[4];
    xpipe(p);
    msg_with_cmsg(&m, &iov, &ctl, CMSG_SPACE(sizeof(int)) + sizeof(int), SCM_RIGHTS, &p[0],
                  sizeof(int));
    if (sendmsg(c->a, &m, ss_nosignal) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
    } else {
        recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(sizeof(int)), 0, &r);
        rcvd_outcome(c, &r);
        close_rcvd(&r);
    }
    close_all(NULL, p);
}
INSTANTIATE(rights_control_longer_than_cmsg, KINDS_SP_STREAM_DGRAM)

/* ---- close-on-exec ---- */

/* Passes a pipe's read end (made close-on-exec first if sent_cloexec) and receives it with
 * flags: "cloexec" or "not-cloexec" for the received descriptor. */
__attribute__((unused)) static void received_cloexec_outcome(struct chan *c, int sent_cloexec,
                                                             int flags)
{
    int p[2];
    struct rcvd r;
    xpipe(p);
    if (sent_cloexec)
        REQUIRE(fcntl(p[0], F_SETFD, FD_CLOEXEC) == 0, "F_SETFD: %s", sockspec_errno_name(errno));
    send_one_fd(c, p[0]);
    recv_one_fd(c, flags, &r);
    outcome(c, "%s", is_cloexec(r.fds[0]) ? "cloexec" : "not-cloexec");
    close_all(&r, p);
}

CHECK(cmsg_cloexec_sets_flag,
      "MSG_CMSG_CLOEXEC sets FD_CLOEXEC on received descriptors: \"cloexec\".")
{
#ifdef QUIRK_NO_MSG_CMSG_CLOEXEC
    UNSUPPORTED(c, "MSG_CMSG_CLOEXEC");
#else
    received_cloexec_outcome(c, 0, MSG_CMSG_CLOEXEC);
#endif
}
INSTANTIATE(cmsg_cloexec_sets_flag, KINDS_MIX_SP)

CHECK(received_fd_not_cloexec, "Without MSG_CMSG_CLOEXEC a received descriptor is not "
                               "close-on-exec, even when the sent one was: \"not-cloexec\".")
{
    received_cloexec_outcome(c, 1, 0);
}
INSTANTIATE(received_fd_not_cloexec, KINDS_MIX_SP)

/* ---- stream boundaries and peeking ---- */

CHECK(
    rights_not_merged_stream,
    "STREAM: two sends each with a descriptor are not merged by one large read: \"3 bytes+1 fds\".")
{
    int p[2];
    char buf[64];
    struct rcvd r1, r2;
    xpipe(p);
    REQUIRE(send_fds(c->a, &p[0], 1, "aaa", 3) == 3, "sendmsg: %s", sockspec_errno_name(errno));
    REQUIRE(send_fds(c->a, &p[1], 1, "bbb", 3) == 3, "sendmsg: %s", sockspec_errno_name(errno));
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(4 * sizeof(int)), 0, &r1);
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(4 * sizeof(int)), 0, &r2);
    bytes_fds_outcome(c, &r1);
    close_rcvd(&r2);
    close_all(&r1, p);
}
INSTANTIATE(rights_not_merged_stream, KINDS_REP_STREAM)

CHECK(rights_after_plain_data_stream,
      "STREAM: plain bytes followed by bytes with a descriptor, one large read (Linux: both).")
{
    int p[2];
    char buf[64];
    struct rcvd r1, r2;
    xpipe(p);
    xsend_all(c->a, "aaa", 3);
    REQUIRE(send_fds(c->a, &p[0], 1, "bbb", 3) == 3, "sendmsg: %s", sockspec_errno_name(errno));
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(4 * sizeof(int)), 0, &r1);
    memset(&r2, 0, sizeof r2);
    if (r1.r >= 0 && r1.r < 6)
        recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(4 * sizeof(int)), 0, &r2);
    bytes_fds_outcome(c, &r1);
    close_rcvd(&r2);
    close_all(&r1, p);
}
INSTANTIATE(rights_after_plain_data_stream, KINDS_MIX_STREAM_TWO)

CHECK(rights_peek_installs_copy,
      "MSG_PEEK with a control buffer installs a copy; the real receive installs another: \"1,1\".")
{
    int p[2];
    char buf[4];
    struct rcvd pk, r;
    xpipe(p);
    send_one_fd(c, p[0]);
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(sizeof(int)), MSG_PEEK, &pk);
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(sizeof(int)), 0, &r);
    if (pk.nfds == 1 && r.nfds == 1) {
        EXPECT(pk.fds[0] != r.fds[0], "peek and receive share a descriptor number");
        EXPECT(same_file(pk.fds[0], p[0]) && same_file(r.fds[0], p[0]), "another file");
    }
    if (pk.r < 0 || r.r < 0)
        outcome(c, "%s", sockspec_errno_name(pk.r < 0 ? pk.err : r.err));
    else if (pk.bogus) /* raw control data, not descriptors (FreeBSD hands back kernel data) */
        outcome(c, "%d+%d not descriptors,%d", pk.nfds, pk.bogus, r.nfds);
    else
        outcome(c, "%d,%d", pk.nfds, r.nfds);
    close_rcvd(&pk);
    close_all(&r, p);
}
INSTANTIATE(rights_peek_installs_copy, KINDS_MIX_SP)

CHECK(rights_zero_length_stream_dropped, "STREAM: a zero-length send with a descriptor is dropped; "
                                         "the next byte arrives alone: \"0;1 bytes+0 fds\".")
{
    int p[2];
    char buf[8];
    struct rcvd r;
    xpipe(p);
    struct ret_str ss = ret_str(send_fds(c->a, &p[0], 1, "", 0));
    xsend_all(c->a, "y", 1);
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(sizeof(int)), 0, &r);
    bytes_fds_outcome(c, &r);
    char got[OUTCOME_MAX];
    snprintf(got, sizeof got, "%s;%.120s", ss.s, c->outcome);
    outcome(c, "%s", got);
    close_all(&r, p);
}
INSTANTIATE(rights_zero_length_stream_dropped, KINDS_MIX_STREAM_TWO)

CHECK(rights_zero_length_message, "DGRAM/SEQPACKET: a zero-length message with a descriptor is "
                                  "delivered with it: \"0 bytes+1 fds\".")
{
    int p[2];
    char buf[8];
    struct rcvd r;
    xpipe(p);
    REQUIRE(send_fds(c->a, &p[0], 1, "", 0) == 0, "sendmsg: %s", sockspec_errno_name(errno));
    recv_fds(c->b, buf, sizeof buf, CMSG_SPACE(sizeof(int)), 0, &r);
    bytes_fds_outcome(c, &r);
    close_all(&r, p);
}
INSTANTIATE(rights_zero_length_message, KINDS_SP_MSG_PLAIN)

/* ---- peer credentials ---- */

/* "match" when pid (if known, -1 otherwise), uid and gid are this process's (unused where the OS
 * has no credential API at all). */
__attribute__((unused)) static void cred_outcome(struct chan *c, long pid, long uid, long gid)
{
    if ((pid == -1 || pid == (long)getpid()) && uid == (long)geteuid() && gid == (long)getegid())
        outcome(c, "match");
    else
        outcome(c, "pid=%ld uid=%ld gid=%ld", pid, uid, gid);
}

#ifdef SOCKSPEC_HAVE_SO_PEERCRED
/* SO_PEERCRED of b as a cred_outcome (optlen checked if check_len), or the errno name. */
static void so_peercred_outcome(struct chan *c, int check_len)
{
#ifdef SOCKSPEC_HAVE_SCM_CREDENTIALS
    struct ucred cr; /* {pid, uid, gid}: QUIRK_PEERCRED_API */
#else
    struct sockpeercred cr; /* {uid, gid, pid}: QUIRK_PEERCRED_API */
#endif
    socklen_t l = sizeof cr;
    memset(&cr, 0, sizeof cr);
    if (getsockopt(c->b, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    if (check_len)
        EXPECT(l == sizeof cr, "optlen %u", (unsigned)l);
    cred_outcome(c, (long)cr.pid, (long)cr.uid, (long)cr.gid);
}
#endif

CHECK(peercred_so_peercred,
      "SO_PEERCRED reports this process's pid, uid and gid (Linux ucred, OpenBSD sockpeercred).")
{
#ifdef SOCKSPEC_HAVE_SO_PEERCRED
    so_peercred_outcome(c, 1);
#else
    UNSUPPORTED(c, "SO_PEERCRED");
#endif
}
INSTANTIATE(peercred_so_peercred, KINDS_MIX_CONN_BLOCKING)

CHECK(peercred_so_peercred_dgram,
      "SO_PEERCRED on a DGRAM socketpair (Linux: set by socketpair() too).")
{
#ifdef SOCKSPEC_HAVE_SO_PEERCRED
    so_peercred_outcome(c, 0);
#else
    UNSUPPORTED(c, "SO_PEERCRED");
#endif
}
INSTANTIATE(peercred_so_peercred_dgram, KINDS_SP_DGRAM)

CHECK(peercred_local_peercred,
      "LOCAL_PEERCRED (FreeBSD, macOS) reports this process's uid and gid in a struct xucred.")
{
#ifdef SOCKSPEC_HAVE_LOCAL_PEERCRED
    struct xucred xu;
    socklen_t l = sizeof xu;
    memset(&xu, 0, sizeof xu);
    if (getsockopt(c->b, SOL_LOCAL, LOCAL_PEERCRED, &xu, &l) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    EXPECT(xu.cr_version == XUCRED_VERSION, "xucred version %u", (unsigned)xu.cr_version);
    cred_outcome(c, -1, (long)xu.cr_uid, xu.cr_ngroups > 0 ? (long)xu.cr_groups[0] : -2);
#else
    UNSUPPORTED(c, "LOCAL_PEERCRED");
#endif
}
INSTANTIATE(peercred_local_peercred, KINDS_MIX_CONN_BLOCKING)

CHECK(peercred_getpeereid, "getpeereid() reports this process's effective uid and gid.")
{
#ifdef SOCKSPEC_HAVE_GETPEEREID
    uid_t u;
    gid_t g;
    if (getpeereid(c->b, &u, &g) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    cred_outcome(c, -1, (long)u, (long)g);
#else
    UNSUPPORTED(c, "getpeereid");
#endif
}
INSTANTIATE(peercred_getpeereid, KINDS_MIX_CONN_BLOCKING)

#if defined(SOCKSPEC_HAVE_SCM_CREDENTIALS) && defined(SOCKSPEC_HAVE_SO_PASSCRED)
/* Sends "x" from c->a (with an explicit SCM_CREDENTIALS of our own if explicit), receives on
 * c->b: the credentials received, or "none". */
static void scm_credentials_outcome(struct chan *c, int passcred, int explicit_creds)
{
    union an_ctl ctl;
    struct msghdr m;
    struct iovec iov;
    char buf[4];
    int one = 1;
    if (passcred)
        REQUIRE(setsockopt(c->b, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0, "SO_PASSCRED: %s",
                sockspec_errno_name(errno));
    if (explicit_creds) {
        struct ucred me = {getpid(), geteuid(), getegid()};
        msg_with_cmsg(&m, &iov, &ctl, CMSG_SPACE(sizeof me), SCM_CREDENTIALS, &me, sizeof me);
        REQUIRE(sendmsg(c->a, &m, ss_nosignal) == 1, "sendmsg: %s", sockspec_errno_name(errno));
    } else {
        xsend_all(c->a, "x", 1);
    }
    memset(&ctl, 0, sizeof ctl);
    msg_init(&m, &iov, buf, sizeof buf, ctl.buf, sizeof ctl.buf);
    (void)poll_events(c->b, POLLIN, 2000);
    ssize_t r = recvmsg(c->b, &m, MSG_DONTWAIT);
    if (r < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome(c, "none");
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
            struct ucred got;
            memcpy(&got, CMSG_DATA(cm), sizeof got);
            cred_outcome(c, (long)got.pid, (long)got.uid, (long)got.gid);
        }
}
#endif

CHECK(scm_credentials_with_passcred,
      "SCM_CREDENTIALS arrive with every message once the receiver sets SO_PASSCRED: \"match\".")
{
#if defined(SOCKSPEC_HAVE_SCM_CREDENTIALS) && defined(SOCKSPEC_HAVE_SO_PASSCRED)
    scm_credentials_outcome(c, 1, 0);
#else
    UNSUPPORTED(c, "SCM_CREDENTIALS");
#endif
}
INSTANTIATE(scm_credentials_with_passcred, KINDS_SP_PLAIN)

CHECK(scm_credentials_without_passcred, "Without SO_PASSCRED on the receiver, even explicitly sent "
                                        "SCM_CREDENTIALS are not delivered: \"none\".")
{
#if defined(SOCKSPEC_HAVE_SCM_CREDENTIALS) && defined(SOCKSPEC_HAVE_SO_PASSCRED)
    scm_credentials_outcome(c, 0, 1);
#else
    UNSUPPORTED(c, "SCM_CREDENTIALS");
#endif
}
INSTANTIATE(scm_credentials_without_passcred, KINDS_SP_STREAM_DGRAM)

CHECK(scm_credentials_explicit_own,
      "Explicit SCM_CREDENTIALS with this process's own ids reach a SO_PASSCRED receiver.")
{
#if defined(SOCKSPEC_HAVE_SCM_CREDENTIALS) && defined(SOCKSPEC_HAVE_SO_PASSCRED)
    scm_credentials_outcome(c, 1, 1);
#else
    UNSUPPORTED(c, "SCM_CREDENTIALS");
#endif
}
INSTANTIATE(scm_credentials_explicit_own, KINDS_SP_STREAM_DGRAM)

#if defined(SOCKSPEC_HAVE_SCM_CREDENTIALS) && defined(SOCKSPEC_HAVE_SO_PASSCRED)
/* In a child: drops root, then sends "x" from a claiming another pid; the sendmsg result. */
static const char *foreign_pid_send(void *arg, char *out, size_t n)
{
    struct chan *c = arg;
    union an_ctl ctl;
    struct msghdr m;
    struct iovec iov;
    (void)out;
    (void)n;
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return "cannot-drop-root";
    struct ucred other = {getppid() == 1 ? 2 : 1, geteuid(), getegid()};
    msg_with_cmsg(&m, &iov, &ctl, CMSG_SPACE(sizeof other), SCM_CREDENTIALS, &other, sizeof other);
    return sendmsg(c->a, &m, ss_nosignal | MSG_DONTWAIT) < 0 ? sockspec_errno_name(errno) : "sent";
}
#endif

CHECK(scm_credentials_foreign_pid_eperm,
      "An unprivileged sender claiming another pid in SCM_CREDENTIALS: sendmsg fails with EPERM "
      "(the claim is made from a child that drops root first).")
{
#if defined(SOCKSPEC_HAVE_SCM_CREDENTIALS) && defined(SOCKSPEC_HAVE_SO_PASSCRED)
    struct child ch;
    char res[32];
    child_start(&ch, foreign_pid_send, c);
    child_finish(&ch, 3000, res, sizeof res);
    outcome(c, "%s", res[0] ? res : "no-report");
#else
    UNSUPPORTED(c, "SCM_CREDENTIALS");
#endif
}
INSTANTIATE(scm_credentials_foreign_pid_eperm, KINDS_SP_STREAM_DGRAM)

CHECK(scm_creds_local_creds,
      "LOCAL_CREDS on the receiver: each message carries SCM_CREDS (struct sockcred) with this "
      "process's effective uid and gid (FreeBSD, NetBSD).")
{
#if defined(SOCKSPEC_HAVE_SCM_CREDS) && defined(SOCKSPEC_HAVE_LOCAL_CREDS)
    union an_ctl ctl;
    struct msghdr m;
    struct iovec iov;
    char buf[4];
    int one = 1;
    REQUIRE(setsockopt(c->b, SOL_LOCAL, LOCAL_CREDS, &one, sizeof one) == 0, "LOCAL_CREDS: %s",
            sockspec_errno_name(errno));
    xsend_all(c->a, "x", 1);
    memset(&ctl, 0, sizeof ctl);
    msg_init(&m, &iov, buf, sizeof buf, ctl.buf, sizeof ctl.buf);
    (void)poll_events(c->b, POLLIN, 2000);
    if (recvmsg(c->b, &m, MSG_DONTWAIT) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome(c, "none");
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDS) {
            struct sockcred sc;
            memcpy(&sc, CMSG_DATA(cm), sizeof sc);
            cred_outcome(c, -1, (long)sc.sc_euid, (long)sc.sc_egid);
        }
#else
    UNSUPPORTED(c, "SCM_CREDS");
#endif
}
INSTANTIATE(scm_creds_local_creds, KINDS_SP_STREAM_DGRAM)
