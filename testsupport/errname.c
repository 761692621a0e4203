#include "errname.h"

#include <errno.h>
#include <stdio.h>

#define E(x) {x, #x},
static const struct {
    int e;
    const char *name;
} names[] = {
    /* clang-format off */
    {0, "0"},
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF)
    E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV)
    E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE)
    E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK)
    E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(EOVERFLOW) E(EILSEQ) E(EBADMSG)
    E(EPROTO) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT)
    E(EPROTONOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL)
    E(ENETDOWN) E(ENETUNREACH) E(ENETRESET) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS)
    E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTUNREACH) E(EALREADY)
    E(EINPROGRESS) E(ECANCELED)
/* Not in POSIX, or not on every OS: named where the headers define them. */
#ifdef ESOCKTNOSUPPORT
    E(ESOCKTNOSUPPORT)
#endif
#ifdef EPFNOSUPPORT
    E(EPFNOSUPPORT)
#endif
#ifdef ESHUTDOWN
    E(ESHUTDOWN)
#endif
#ifdef ETOOMANYREFS
    E(ETOOMANYREFS)
#endif
#ifdef EHOSTDOWN
    E(EHOSTDOWN)
#endif
#ifdef ENOTCAPABLE
    E(ENOTCAPABLE)
#endif
#ifdef ECAPMODE
    E(ECAPMODE)
#endif
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
    E(ENOTSUP)
#endif
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
    E(EWOULDBLOCK)
#endif
    /* clang-format on */
};
#undef E

const char *sockspec_errno_name(int e)
{
    static char unknown[32];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e)
            return names[i].name;
    snprintf(unknown, sizeof unknown, "errno%d", e);
    return unknown;
}
