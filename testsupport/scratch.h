/* Scratch names for tests: a private directory for filesystem sockets, and AF_UNIX addresses
 * in it or in the Linux abstract namespace. Errors are -1 and errno. */
#ifndef SOCKSPEC_SCRATCH_H
#define SOCKSPEC_SCRATCH_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

struct scratch_dir {
    char path[96];
};

/* mkdtemp "<TMPDIR>/sockspec.XXXXXX", TMPDIR unset or empty meaning /tmp: 0, or -1 with errno
 * (ENAMETOOLONG when TMPDIR leaves no room for socket names under sun_path's limit). */
int scratch_dir_make(struct scratch_dir *d);
/* Unlinks names[0..n-1] inside d (missing ones are fine), then removes d: 0, or -1 with rmdir's
 * errno. */
int scratch_dir_remove(const struct scratch_dir *d, const char *const *names, size_t n);
/* "<d>/<name>" as an AF_UNIX address, NUL-terminated, sun_len set where the OS has it: the
 * length to pass to bind/connect, or 0 with errno ENAMETOOLONG. */
socklen_t scratch_unix_addr(const struct scratch_dir *d, const char *name, struct sockaddr_un *sun);
/* An abstract-namespace address (Linux unix.7) "\0sockspec.<pid>.<name>", unique to this
 * process: its length, or 0 with errno ENAMETOOLONG. */
socklen_t scratch_abstract_addr(const char *name, struct sockaddr_un *sun);
/* The loopback address of domain (AF_INET or AF_INET6) with port_n, in network byte order: its
 * length. */
socklen_t scratch_loopback_addr(int domain, unsigned short port_n, struct sockaddr_storage *ss);

#endif
