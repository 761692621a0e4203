/*
 * Names of Linux's ABI that headers older than the running kernel lack, for the library
 * (through compat.h) and for the tests and fuzz targets that set them, which include this
 * file alone: compat.h may change what the system headers show.
 */
#ifndef FRAME_COMPAT_NAMES_H
#define FRAME_COMPAT_NAMES_H

#include <sockspec_config.h>

#include <sys/types.h>
#include <sys/socket.h>

/* SO_PASSPIDFD (Linux 6.5): every read on the socket also brings a descriptor, a pidfd of the
 * sender, in an SCM_PIDFD control message (net/core/scm.c, scm_pidfd_recv, v6.5); it is the
 * receiver's to close. Headers older than the running kernel lack the names; the values are
 * Linux's ABI: SCM_PIDFD 0x04 on every architecture (include/linux/socket.h), SO_PASSPIDFD 76
 * where SO_PASSCRED has asm-generic's value 16 (include/uapi/asm-generic/socket.h, v6.5). */
#if defined(SOCKSPEC_HAVE_SCM_CREDENTIALS) && !defined(SCM_PIDFD)
#define SCM_PIDFD 0x04
#endif
#if defined(SCM_PIDFD) && !defined(SO_PASSPIDFD) && defined(SO_PASSCRED)
#if SO_PASSCRED == 16
#define SO_PASSPIDFD 76
#endif
#endif

#endif
