#include "sockspec_config.h"
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#endif
#include "scratch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room left in sun_path for "/<name>" after the directory. */
#define NAME_ROOM 16

int scratch_dir_make(struct scratch_dir *d)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int n = snprintf(d->path, sizeof d->path, "%s/sockspec.XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof d->path ||
        (size_t)n + NAME_ROOM > sizeof((struct sockaddr_un *)0)->sun_path) {
        d->path[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!mkdtemp(d->path)) {
        d->path[0] = '\0';
        return -1;
    }
    return 0;
}

int scratch_dir_remove(const struct scratch_dir *d, const char *const *names, size_t n)
{
    char p[sizeof d->path + 64];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", d->path, names[i]);
        (void)unlink(p);
    }
    return rmdir(d->path);
}

socklen_t scratch_unix_addr(const struct scratch_dir *d, const char *name, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    int n = snprintf(sun->sun_path, sizeof sun->sun_path, "%s/%s", d->path, name);
    if (n < 0 || (size_t)n >= sizeof sun->sun_path) {
        errno = ENAMETOOLONG;
        return 0;
    }
#ifdef SOCKSPEC_HAVE_SUN_LEN
    sun->sun_len = (unsigned char)SUN_LEN(sun);
#endif
    return (socklen_t)sizeof *sun;
}

socklen_t scratch_abstract_addr(const char *name, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    int n = snprintf(sun->sun_path + 1, sizeof sun->sun_path - 1, "sockspec.%ld.%s", (long)getpid(),
                     name);
    if (n < 0 || (size_t)n >= sizeof sun->sun_path - 1) {
        errno = ENAMETOOLONG;
        return 0;
    }
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

socklen_t scratch_loopback_addr(int domain, unsigned short port_n, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (domain == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = port_n;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return (socklen_t)sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = port_n;
    in6->sin6_addr = in6addr_loopback;
    return (socklen_t)sizeof *in6;
}
