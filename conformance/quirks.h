/*
 * Compile-time differences between the OSes sockspec runs on, each named once with its
 * reason and source. Run-time differences are data in expectations/, not macros.
 * Use: `#ifdef QUIRK_NO_MSG_NOSIGNAL` at the top of a check, then record the documented
 * outcome (see UNSUPPORTED()).
 */
#ifndef SOCKSPEC_QUIRKS_H
#define SOCKSPEC_QUIRKS_H

#include "sockspec_config.h"

#ifndef SOCKSPEC_HAVE_SOCK_NONBLOCK
#define QUIRK_NO_SOCK_NONBLOCK "SOCK_NONBLOCK not defined (macOS socket.2): kinds use fcntl"
#endif
#ifndef SOCKSPEC_HAVE_SOCK_CLOEXEC
#define QUIRK_NO_SOCK_CLOEXEC "SOCK_CLOEXEC not defined (macOS socket.2): use fcntl(FD_CLOEXEC)"
#endif
#ifndef SOCKSPEC_HAVE_MSG_NOSIGNAL
#define QUIRK_NO_MSG_NOSIGNAL "MSG_NOSIGNAL not defined (macOS before 11, send.2): SO_NOSIGPIPE"
#endif
#ifndef SOCKSPEC_HAVE_SO_NOSIGPIPE
#define QUIRK_NO_SO_NOSIGPIPE "SO_NOSIGPIPE not defined (Linux socket.7, OpenBSD)"
#endif
#ifndef SOCKSPEC_HAVE_MSG_CMSG_CLOEXEC
#define QUIRK_NO_MSG_CMSG_CLOEXEC "MSG_CMSG_CLOEXEC not defined (macOS recv.2)"
#endif
#ifndef SOCKSPEC_HAVE_POLLRDHUP
#define QUIRK_NO_POLLRDHUP "POLLRDHUP not defined (NetBSD, OpenBSD, macOS poll.2)"
#endif
#ifndef SOCKSPEC_HAVE_SO_DOMAIN
#define QUIRK_NO_SO_DOMAIN "SO_DOMAIN not defined (macOS, NetBSD getsockopt.2)"
#endif
#ifndef SOCKSPEC_HAVE_SO_PROTOCOL
#define QUIRK_NO_SO_PROTOCOL "SO_PROTOCOL not defined (macOS, NetBSD getsockopt.2)"
#endif
#ifndef SOCKSPEC_HAVE_SYS_SOCKETPAIR
#define QUIRK_NO_RAW_SYSCALL "no SYS_socketpair: libc wrapper only (macOS deprecates syscall.2)"
#endif
#ifndef SOCKSPEC_HAVE_ESOCKTNOSUPPORT
#define QUIRK_NO_ESOCKTNOSUPPORT "ESOCKTNOSUPPORT not defined (POSIX does not list it)"
#endif

/* Peer credentials: five APIs (cross-os-differences.md row 12). */
#if defined(SOCKSPEC_HAVE_SO_PEERCRED) && defined(SOCKSPEC_HAVE_SCM_CREDENTIALS)
#define QUIRK_PEERCRED_API "SO_PEERCRED struct ucred {pid, uid, gid} (Linux unix.7)"
#elif defined(SOCKSPEC_HAVE_SO_PEERCRED)
#define QUIRK_PEERCRED_API "SO_PEERCRED struct sockpeercred {uid, gid, pid} (OpenBSD getsockopt.2)"
#elif defined(SOCKSPEC_HAVE_LOCAL_PEERCRED)
#define QUIRK_PEERCRED_API "LOCAL_PEERCRED struct xucred (FreeBSD unix.4, macOS)"
#elif defined(SOCKSPEC_HAVE_LOCAL_PEEREID)
#define QUIRK_PEERCRED_API "LOCAL_PEEREID struct unpcbid {pid, uid, gid} (NetBSD unix.4)"
#endif
/* macOS takes LOCAL_PEERCRED at level SOL_LOCAL (0) and FreeBSD at 0 too, but only macOS
 * names it (macOS unix.4, FreeBSD unix.4). */
#if (defined(SOCKSPEC_HAVE_LOCAL_PEERCRED) || defined(SOCKSPEC_HAVE_LOCAL_CREDS)) &&               \
    !defined(SOL_LOCAL)
#define SOL_LOCAL 0
#endif

/* Socket options and queue-size ioctls of the families checks (issue 11, item 4). */
#ifndef SOCKSPEC_HAVE_SO_PEEK_OFF
#define QUIRK_NO_SO_PEEK_OFF "SO_PEEK_OFF not defined (Linux socket.7 only)"
#endif
#ifndef SOCKSPEC_HAVE_SO_PASSCRED
#define QUIRK_NO_SO_PASSCRED "SO_PASSCRED not defined (Linux unix.7; the BSDs have LOCAL_CREDS)"
#endif
#ifndef SOCKSPEC_HAVE_TIOCINQ
#define QUIRK_NO_TIOCINQ "TIOCINQ not defined (Linux asm-generic/ioctls.h only: FIONREAD elsewhere)"
#endif
#ifndef SOCKSPEC_HAVE_TIOCOUTQ
#define QUIRK_NO_TIOCOUTQ "TIOCOUTQ not defined (a tty ioctl: Linux tty_ioctl.4, BSD tty.4)"
#endif
#ifndef SOCKSPEC_HAVE_SIOCOUTQ
#define QUIRK_NO_SIOCOUTQ "SIOCOUTQ not defined (Linux linux/sockios.h, unix.7 and tcp.7 only)"
#endif
#ifndef SOCKSPEC_HAVE_FIONWRITE
#define QUIRK_NO_FIONWRITE "FIONWRITE not defined (FreeBSD, NetBSD sys/filio.h; not Linux)"
#endif
#ifndef SOCKSPEC_HAVE_FIONSPACE
#define QUIRK_NO_FIONSPACE "FIONSPACE not defined (FreeBSD, NetBSD sys/filio.h; not Linux)"
#endif

#endif
