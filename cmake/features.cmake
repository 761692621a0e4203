# Feature checks for every OS difference that code must compile around.
# Results land in sockspec_config.h as SOCKSPEC_HAVE_<NAME> (1 or undefined).
# One place: conformance/quirks.h and frame/src/compat.h read these, nothing else probes.
include_guard(GLOBAL)
include(CheckSymbolExists)
include(CheckCSourceCompiles)
include(CMakePushCheckState)

# The BSDs and macOS hide their extensions (CMSG_SPACE and CMSG_LEN before POSIX 2024, mkdtemp
# and MSG_NOSIGNAL on macOS, syscall) from a file that asks for _POSIX_C_SOURCE, and glibc does
# not: each file may ask for POSIX and still see what the probes below saw, since every file of
# the build and every probe get the OS's own macro for "show the extensions too" (macOS
# <sys/cdefs.h> _DARWIN_C_SOURCE; FreeBSD <sys/cdefs.h> __BSD_VISIBLE; NetBSD
# <sys/featuretest.h> _NETBSD_SOURCE; OpenBSD <sys/cdefs.h> _BSD_SOURCE).
if(APPLE)
  set(SOCKSPEC_VISIBILITY_DEFINITIONS _DARWIN_C_SOURCE)
elseif(CMAKE_SYSTEM_NAME MATCHES "^(FreeBSD|DragonFly)$")
  set(SOCKSPEC_VISIBILITY_DEFINITIONS __BSD_VISIBLE=1)
elseif(CMAKE_SYSTEM_NAME STREQUAL "NetBSD")
  set(SOCKSPEC_VISIBILITY_DEFINITIONS _NETBSD_SOURCE=1)
elseif(CMAKE_SYSTEM_NAME STREQUAL "OpenBSD")
  set(SOCKSPEC_VISIBILITY_DEFINITIONS _BSD_SOURCE=1)
else()
  set(SOCKSPEC_VISIBILITY_DEFINITIONS "")
endif()
add_compile_definitions(${SOCKSPEC_VISIBILITY_DEFINITIONS})

cmake_push_check_state(RESET)
list(TRANSFORM SOCKSPEC_VISIBILITY_DEFINITIONS PREPEND -D OUTPUT_VARIABLE CMAKE_REQUIRED_DEFINITIONS)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  # glibc and musl hide MSG_CMSG_CLOEXEC, POLLRDHUP, struct ucred unless asked.
  list(APPEND CMAKE_REQUIRED_DEFINITIONS -D_GNU_SOURCE)
endif()

set(_sockspec_symbols
  "SOCK_CLOEXEC\;sys/socket.h"
  "SOCK_NONBLOCK\;sys/socket.h"
  "MSG_NOSIGNAL\;sys/socket.h"
  "SO_NOSIGPIPE\;sys/socket.h"
  "MSG_CMSG_CLOEXEC\;sys/socket.h"
  "SO_PEERCRED\;sys/socket.h"
  "SO_DOMAIN\;sys/socket.h"
  "SO_PROTOCOL\;sys/socket.h"
  "SCM_CREDENTIALS\;sys/socket.h"
  "SO_PASSCRED\;sys/socket.h"
  "SO_PASSSEC\;sys/socket.h"
  "SO_TIMESTAMP\;sys/socket.h"
  "SCM_CREDS\;sys/types.h\;sys/socket.h"
  "LOCAL_PEERCRED\;sys/types.h\;sys/socket.h\;sys/un.h"
  "LOCAL_CREDS\;sys/types.h\;sys/socket.h\;sys/un.h"
  "LOCAL_PEEREID\;sys/types.h\;sys/socket.h\;sys/un.h"
  "POLLRDHUP\;poll.h"
  "FIONREAD\;sys/ioctl.h"
  "accept4\;sys/socket.h"
  "pipe2\;unistd.h"
  "getpeereid\;sys/types.h\;unistd.h"
  "IOV_MAX\;limits.h"
  "MSG_WAITALL\;sys/socket.h"
  "ESOCKTNOSUPPORT\;errno.h"
  "F_GETPIPE_SZ\;fcntl.h"
  "O_DIRECT\;fcntl.h"
  "SO_PEEK_OFF\;sys/socket.h"
  "TIOCINQ\;sys/ioctl.h"
  "TIOCOUTQ\;sys/ioctl.h"
  "SIOCOUTQ\;sys/ioctl.h\;linux/sockios.h"
  "FIONWRITE\;sys/ioctl.h"
  "FIONSPACE\;sys/ioctl.h"
  "sendmmsg\;sys/socket.h"
  "recvmmsg\;sys/socket.h"
  "MSG_WAITFORONE\;sys/socket.h"
)
foreach(entry IN LISTS _sockspec_symbols)
  list(POP_FRONT entry sym)
  string(TOUPPER "${sym}" upper)
  check_symbol_exists(${sym} "${entry}" SOCKSPEC_HAVE_${upper})
endforeach()

# A raw socketpair system call, for EFAULT checks the libc wrapper might crash on; macOS
# declares syscall() deprecated, which counts as absent.
set(_sockspec_saved_flags "${CMAKE_REQUIRED_FLAGS}")
set(CMAKE_REQUIRED_FLAGS "${CMAKE_REQUIRED_FLAGS} -Werror=deprecated-declarations")
check_c_source_compiles([=[
#include <unistd.h>
#include <sys/syscall.h>
int main(void) { return (int)syscall(SYS_socketpair, 0, 0, 0, (int *)0); }
]=] SOCKSPEC_HAVE_SYS_SOCKETPAIR)
# The fuzz harness probes its descriptor window with a raw ppoll, past ASan's interceptor.
check_c_source_compiles([=[
#include <poll.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) { return (int)syscall(SYS_ppoll, (struct pollfd *)0, 0, (void *)0, (void *)0, 0); }
]=] SOCKSPEC_HAVE_SYS_PPOLL)
set(CMAKE_REQUIRED_FLAGS "${_sockspec_saved_flags}")

check_c_source_compiles([=[
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(void) { struct sockaddr_un a; a.sun_len = sizeof a; return a.sun_len == 0; }
]=] SOCKSPEC_HAVE_SUN_LEN)

# SO_PEERCRED's result: struct ucred {pid, uid, gid} on Linux, struct sockpeercred {uid, gid,
# pid} on OpenBSD (getsockopt.2), which has no struct ucred.
check_c_source_compiles([=[
#include <sys/types.h>
#include <sys/socket.h>
int main(void) { struct sockpeercred c; c.pid = 0; return (int)c.pid; }
]=] SOCKSPEC_HAVE_STRUCT_SOCKPEERCRED)

# Where the abstract namespace exists is a run-time fact (FreeBSD main grew it); compile-time
# only tells whether the kernel headers claim Linux.
check_c_source_compiles([=[
#ifndef __linux__
#error not linux
#endif
int main(void) { return 0; }
]=] SOCKSPEC_HAVE_ABSTRACT_NAMESPACE)

cmake_pop_check_state()

configure_file(${CMAKE_CURRENT_LIST_DIR}/sockspec_config.h.in
               ${PROJECT_BINARY_DIR}/include/sockspec_config.h)
