/*
 * recvmsg() and sendmsg() argument edge cases: a NULL control buffer with a non-zero length,
 * msg_name on a connected pair, zero-length iovec entries, an iovec count above IOV_MAX, and
 * MSG_TRUNC / MSG_CTRUNC passed as input flags.
 *
 * Where msg_flags is recorded, the flags the check itself passed to recvmsg are masked out
 * first: the BSDs copy the input flags into msg_flags (FreeBSD kern_recvit() starts msg_flags
 * from the flags argument), so an echoed input flag would read as a reported one.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"
#include "memcheck.h"

#define CATEGORY msghdr

/* msg_flags without the flags the caller passed in, as text. */
static const char *flags_besides(int fl, int passed, char *buf, size_t n)
{
    return msg_flags_str(fl & ~passed, buf, n);
}

static void msg_init(struct msghdr *m, struct iovec *iov, size_t niov)
{
    memset(m, 0, sizeof *m);
    m->msg_iov = iov;
    m->msg_iovlen = (int)niov;
}

/* Waits (bounded) for b to be readable. */
static void wait_data(struct chan *c)
{
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN, "the data never arrived");
}

/* ---- control ---------------------------------------------------------------------------- */

CHECK(sendmsg_null_control_with_len,
      "sendmsg() with msg_control NULL and msg_controllen the space of one int: the errno (Linux: "
      "EFAULT), or the bytes sent.")
{
    struct iovec iov = {.iov_base = "abc", .iov_len = 3};
    struct msghdr m;
    msg_init(&m, &iov, 1);
    m.msg_controllen = CMSG_SPACE(sizeof(int));
    memcheck_expect_bad_argument(1);
    ssize_t r = sendmsg(c->a, &m, MSG_DONTWAIT | ss_nosignal);
    memcheck_expect_bad_argument(0);
    outcome_ret(c, r);
}
INSTANTIATE(sendmsg_null_control_with_len, KINDS_MSGHDR_SOCKETS)

CHECK(recvmsg_null_control_with_len,
      "recvmsg() with msg_control NULL and msg_controllen 64, plain data queued: \"<bytes>,"
      "controllen <after>,<msg_flags>\", or the errno.")
{
    char buf[16], fs[64];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr m;
    xsend_all(c->a, "abc", 3);
    wait_data(c);
    msg_init(&m, &iov, 1);
    m.msg_controllen = 64;
    memcheck_expect_bad_argument(1);
    ssize_t r = recvmsg(c->b, &m, MSG_DONTWAIT);
    memcheck_expect_bad_argument(0);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%zd,controllen %lu,%s", r, (unsigned long)m.msg_controllen,
                flags_besides(m.msg_flags, MSG_DONTWAIT, fs, sizeof fs));
}
INSTANTIATE(recvmsg_null_control_with_len, KINDS_MSGHDR_SOCKETS)

/* Sends one byte from a with the descriptor fd as SCM_RIGHTS. */
static void send_rights(struct chan *c, int fd)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = {.iov_base = "r", .iov_len = 1};
    struct msghdr m;
    msg_init(&m, &iov, 1);
    memset(&ctl, 0, sizeof ctl);
    m.msg_control = ctl.buf;
    m.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t r = sendmsg(c->a, &m, ss_nosignal);
    REQUIRE(r == 1, "sendmsg SCM_RIGHTS: %s", ret_str(r).s);
}

CHECK(recvmsg_null_control_with_rights,
      "recvmsg() with msg_control NULL and msg_controllen 64 while a descriptor is in flight: "
      "\"<bytes or errno>,<msg_flags>,<descriptors installed>\" (none may be installed unseen).")
{
    struct fdset before;
    char buf[16], fs[64];
    int p[2];
    xpipe(p);
    send_rights(c, p[0]);
    xclose(&p[0]);
    xclose(&p[1]);
    wait_data(c);
    REQUIRE(fdset_probe(&before) == 0, "descriptor probe: %s", sockspec_errno_name(errno));
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr m;
    msg_init(&m, &iov, 1);
    m.msg_controllen = 64;
    memcheck_expect_bad_argument(1);
    ssize_t r = recvmsg(c->b, &m, MSG_DONTWAIT);
    memcheck_expect_bad_argument(0);
    struct ret_str rs = ret_str(r);
    int installed = close_new_fds(&before);
    outcome(c, "%s,%s,%d", rs.s,
            r < 0 ? "-" : flags_besides(m.msg_flags, MSG_DONTWAIT, fs, sizeof fs), installed);
}
INSTANTIATE(recvmsg_null_control_with_rights, KINDS_SP_PLAIN)

/* ---- names ------------------------------------------------------------------------------ */

/* The address recvmsg reported, as a word: "none" (length 0), "unnamed", "abstract", "path",
 * "inet", "inet6", or "family <n>". */
static const char *name_word(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t n)
{
    if (len == 0)
        snprintf(buf, n, "none");
    else if (ss->ss_family == AF_INET)
        snprintf(buf, n, "inet");
    else if (ss->ss_family == AF_INET6)
        snprintf(buf, n, "inet6");
    else {
        unix_name_str((const struct sockaddr_un *)ss, len, buf, n);
        buf[strcspn(buf, " ")] = '\0';
    }
    return buf;
}

CHECK(recvmsg_name_on_connected,
      "recvmsg() with a name buffer on a connected pair: what it reports of the sender (\"none\": "
      "length 0, \"unnamed\", \"path\", \"abstract\", \"inet\", \"inet6\").")
{
    char buf[16], s[32];
    struct sockaddr_storage ss;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr m;
    xsend_all(c->a, "abc", 3);
    wait_data(c);
    msg_init(&m, &iov, 1);
    memset(&ss, 0x55, sizeof ss);
    m.msg_name = &ss;
    m.msg_namelen = sizeof ss;
    ssize_t r = recvmsg(c->b, &m, MSG_DONTWAIT);
    REQUIRE(r == 3, "recvmsg: %s", ret_str(r).s);
    outcome(c, "%s", name_word(&ss, m.msg_namelen, s, sizeof s));
}
INSTANTIATE(recvmsg_name_on_connected, KINDS_MSGHDR_NAMES)

/* sendmsg of "abc" on a with msg_name name and msg_namelen len: the result, and what b got. */
static void send_named(struct chan *c, void *name, socklen_t len)
{
    char buf[16];
    struct iovec iov = {.iov_base = "abc", .iov_len = 3};
    struct msghdr m;
    msg_init(&m, &iov, 1);
    m.msg_name = name;
    m.msg_namelen = len;
    ssize_t r = sendmsg(c->a, &m, MSG_DONTWAIT | ss_nosignal);
    if (r < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome(c, "%zd,%s", r, ret_str(read_wait(c, c->b, buf, sizeof buf, 0, 2000)).s);
}

CHECK(sendmsg_null_name_with_len,
      "sendmsg() on a connected pair with msg_name NULL and msg_namelen non-zero: \"<sent>,"
      "<received>\" (the length ignored) or the errno.")
{
    send_named(c, NULL, (socklen_t)sizeof(struct sockaddr_un));
}
INSTANTIATE(sendmsg_null_name_with_len, KINDS_MSGHDR_SOCKETS)

CHECK(sendmsg_name_zero_len,
      "sendmsg() on a connected pair with msg_name set (an address naming nothing) and "
      "msg_namelen 0: \"<sent>,<received>\" (no address given) or the errno.")
{
    struct sockaddr_un sun;
    nowhere_addr(&sun);
    send_named(c, &sun, 0);
}
INSTANTIATE(sendmsg_name_zero_len, KINDS_MSGHDR_SOCKETS)

/* ---- iovecs ----------------------------------------------------------------------------- */

CHECK(
    sendmsg_zero_length_entries,
    "sendmsg() of iovecs {0 bytes, \"abc\", NULL and 0 bytes, \"de\"}: \"<sent>,<what one receive "
    "gets>\" (\"5,abcde\").")
{
    char buf[16] = "", empty[1] = {0};
    struct iovec iov[4] = {{empty, 0}, {"abc", 3}, {NULL, 0}, {"de", 2}};
    struct msghdr m;
    msg_init(&m, iov, 4);
    ssize_t r = sendmsg(c->a, &m, MSG_DONTWAIT | ss_nosignal);
    if (r < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    size_t n = read_collect(c, c->b, buf, (size_t)r, 300);
    outcome(c, "%zd,%.*s", r, (int)n, buf);
}
INSTANTIATE(sendmsg_zero_length_entries, KINDS_MSGHDR_SOCKETS)

CHECK(recvmsg_zero_length_first_entry,
      "recvmsg() of a 5-byte message into iovecs {NULL and 0 bytes, 10 bytes}: \"<bytes>,<what the "
      "second entry holds>\" (\"5,abcde\").")
{
    char buf[10];
    struct iovec iov[2] = {{NULL, 0}, {buf, sizeof buf}};
    struct msghdr m;
    xsend_all(c->a, "abcde", 5);
    wait_data(c);
    msg_init(&m, iov, 2);
    ssize_t r = recvmsg(c->b, &m, MSG_DONTWAIT);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%zd,%.*s", r, (int)(r > 10 ? 10 : r), buf);
}
INSTANTIATE(recvmsg_zero_length_first_entry, KINDS_MSGHDR_SOCKETS)

CHECK(sendmsg_iovlen_above_iov_max,
      "sendmsg() with IOV_MAX + 1 one-byte iovecs: the errno (Linux: EMSGSIZE), or the bytes sent.")
{
#ifndef SOCKSPEC_HAVE_IOV_MAX
    UNSUPPORTED(c, "IOV_MAX");
#else
    size_t n = (size_t)IOV_MAX + 1;
    struct iovec *iov = calloc(n, sizeof *iov);
    REQUIRE(iov != NULL, "out of memory");
    for (size_t i = 0; i < n; i++)
        iov[i] = (struct iovec){.iov_base = "x", .iov_len = 1};
    struct msghdr m;
    msg_init(&m, iov, n);
    ssize_t r = sendmsg(c->a, &m, MSG_DONTWAIT | ss_nosignal);
    int e = errno;
    free(iov);
    errno = e;
    outcome_ret(c, r);
#endif
}
INSTANTIATE(sendmsg_iovlen_above_iov_max, KINDS_MSGHDR_SOCKETS)

/* ---- MSG_TRUNC and MSG_CTRUNC as input flags -------------------------------------------- */

/* send() of "abc" with flags: "<sent>,<received>", or the errno. */
static void send_with_flags(struct chan *c, int flags)
{
    char buf[16];
    ssize_t r = send(c->a, "abc", 3, flags | MSG_DONTWAIT | ss_nosignal);
    if (r < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome(c, "%zd,%s", r, ret_str(read_wait(c, c->b, buf, sizeof buf, 0, 2000)).s);
}

CHECK(send_msg_trunc_flag,
      "send() with MSG_TRUNC, a receive-side flag: \"3,3\" if ignored, else the errno.")
{
    send_with_flags(c, MSG_TRUNC);
}
INSTANTIATE(send_msg_trunc_flag, KINDS_MSGHDR_SOCKETS)

CHECK(send_msg_ctrunc_flag,
      "send() with MSG_CTRUNC, a receive-side flag: \"3,3\" if ignored, else the errno.")
{
    send_with_flags(c, MSG_CTRUNC);
}
INSTANTIATE(send_msg_ctrunc_flag, KINDS_MSGHDR_SOCKETS)

CHECK(recvmsg_ctrunc_flag_plain,
      "recvmsg(MSG_CTRUNC) of a 3-byte message with no control buffer: \"<bytes>,<msg_flags>\" "
      "with MSG_CTRUNC and MSG_DONTWAIT masked out (the BSDs echo input flags), or the errno.")
{
    char buf[16], fs[64];
    int fl = 0;
    xsend_all(c->a, "abc", 3);
    wait_data(c);
    ssize_t r = recvmsg_flags(c->b, buf, sizeof buf, MSG_CTRUNC | MSG_DONTWAIT, &fl);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%zd,%s", r, flags_besides(fl, MSG_CTRUNC | MSG_DONTWAIT, fs, sizeof fs));
}
INSTANTIATE(recvmsg_ctrunc_flag_plain, KINDS_MSGHDR_SOCKETS)
