/* Errno values by name ("EAGAIN"), for outcomes, traces and failure messages: every test
 * program records errors by name, never by number, so results read the same on every OS. */
#ifndef SOCKSPEC_ERRNAME_H
#define SOCKSPEC_ERRNAME_H

/* "0" for 0, the symbolic name where this OS defines one, "errno<N>" otherwise. Where two
 * names share a value (EWOULDBLOCK and EAGAIN, ENOTSUP and EOPNOTSUPP) the POSIX base name
 * is returned. The result is static: an unknown value's text is overwritten by the next. */
const char *sockspec_errno_name(int e);

#endif
