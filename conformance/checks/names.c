/*
 * AF_UNIX socket names at the edges: abstract and filesystem names at the length limits,
 * names whose address length leaves out the terminating NUL (or stops before it), names with
 * a trailing slash, and address lengths beyond struct sockaddr_un. Each check builds its own
 * sockets; filesystem names live in a scratch directory removed at the end.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"
#include "memcheck.h"

#define CATEGORY names

#define PATH_OFF offsetof(struct sockaddr_un, sun_path)

/* An AF_UNIX address, with room past sun_path for lengths beyond the struct. */
union addr {
    struct sockaddr_un sun;
    char raw[sizeof(struct sockaddr_un) + 16];
};

static void addr_init(union addr *u, char fill)
{
    memset(u, fill, sizeof *u);
    u->sun.sun_family = AF_UNIX;
}

/* Sets sun_len where the OS has it (the BSDs read it; Linux has none). */
static void addr_set_len(union addr *u, socklen_t len)
{
#ifdef SOCKSPEC_HAVE_SUN_LEN
    u->sun.sun_len = (unsigned char)(len > 255 ? 255 : len);
#else
    (void)u, (void)len;
#endif
}

static int unix_socket(int type)
{
    int fd = socket(AF_UNIX, type, 0);
    REQUIRE(fd >= 0, "socket: %s", sockspec_errno_name(errno));
    return fd;
}

/* ---- abstract names --------------------------------------------------------------------- */

/* An abstract name unique to this process, padded with 'n' to name_len bytes after the NUL:
 * the address length. */
static socklen_t abstract_padded(union addr *u, size_t name_len)
{
    addr_init(u, 'n');
    u->sun.sun_path[0] = '\0';
    char head[48];
    int n = snprintf(head, sizeof head, "sockspec.%ld.", (long)getpid());
    REQUIRE(n > 0 && (size_t)n < name_len, "name too short for its prefix");
    memcpy(u->sun.sun_path + 1, head, (size_t)n);
    socklen_t len = (socklen_t)(PATH_OFF + 1 + name_len);
    addr_set_len(u, len);
    return len;
}

CHECK(abstract_longest_name,
      "An abstract name filling sun_path (the NUL and 107 bytes): \"<bind>,<getsockname's name>\" "
      "(Linux unix.7: \"ok,abstract 107\").")
{
    union addr u, got;
    socklen_t len = abstract_padded(&u, sizeof u.sun.sun_path - 1);
    socklen_t gl = sizeof got.sun;
    char s[64];
    int fd = unix_socket(SOCK_STREAM);
    if (bind(fd, (struct sockaddr *)&u.sun, len) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
    } else {
        memset(&got, 0, sizeof got);
        REQUIRE(getsockname(fd, (struct sockaddr *)&got.sun, &gl) == 0, "getsockname: %s",
                sockspec_errno_name(errno));
        outcome(c, "ok,%s", unix_name_str(&got.sun, gl, s, sizeof s));
    }
    xclose(&fd);
}
INSTANTIATE(abstract_longest_name, KINDS_NONE)

CHECK(abstract_len_beyond_struct,
      "An abstract name whose address length is one byte more than struct sockaddr_un: the "
      "errno (Linux: EINVAL), or \"ok\".")
{
    union addr u;
    socklen_t len = abstract_padded(&u, sizeof u.sun.sun_path);
    int fd = unix_socket(SOCK_STREAM);
    outcome_ok(c, bind(fd, (struct sockaddr *)&u.sun, len));
    xclose(&fd);
}
INSTANTIATE(abstract_len_beyond_struct, KINDS_NONE)

CHECK(abstract_trailing_nuls_distinct,
      "A connect to a listening abstract name with two NULs added to its length: the errno if "
      "the length makes it another name (Linux unix.7: ECONNREFUSED), \"ok\" if not.")
{
    union addr u;
    socklen_t len = xabstract_addr("trailing", &u.sun);
    REQUIRE(len + 2 <= sizeof u.sun, "name too long");
    int l = unix_socket(SOCK_STREAM), fd = unix_socket(SOCK_STREAM);
    if (bind(l, (struct sockaddr *)&u.sun, len) < 0 || listen(l, 1) < 0) {
        outcome(c, "listener %s", sockspec_errno_name(errno));
    } else {
        memset(u.raw + len, 0, 2);
        addr_set_len(&u, len + 2);
        outcome_ok(c, connect(fd, (struct sockaddr *)&u.sun, len + 2));
    }
    xclose(&fd);
    xclose(&l);
}
INSTANTIATE(abstract_trailing_nuls_distinct, KINDS_NONE)

/* ---- filesystem names ------------------------------------------------------------------- */

/* "<d>/<name>" in u (no NUL added past it; u's other bytes are fill); the path's length. */
static size_t path_in(union addr *u, const struct scratch_dir *d, const char *name, char fill)
{
    addr_init(u, fill);
    size_t dl = strlen(d->path), nl = strlen(name);
    REQUIRE(dl + 1 + nl <= sizeof u->sun.sun_path + 8, "path too long");
    memcpy(u->sun.sun_path, d->path, dl);
    u->sun.sun_path[dl] = '/';
    memcpy(u->sun.sun_path + dl + 1, name, nl);
    return dl + 1 + nl;
}

/* A name of n bytes that fills up the rest of a path of path_len bytes in d. */
static const char *filler_name(const struct scratch_dir *d, size_t path_len, char *buf, size_t n)
{
    size_t dl = strlen(d->path) + 1;
    REQUIRE(dl + 2 < path_len && path_len - dl < n, "scratch directory too long");
    memset(buf, 'f', path_len - dl);
    buf[path_len - dl] = '\0';
    return buf;
}

CHECK(path_longest_with_nul,
      "A path of 107 bytes and its NUL, filling sun_path: \"<bind>,<connect to it>\" (\"ok,ok\").")
{
    struct scratch_dir d;
    union addr u;
    char name[sizeof u.sun.sun_path];
    xscratch_dir(&d);
    filler_name(&d, sizeof u.sun.sun_path - 1, name, sizeof name);
    size_t pl = path_in(&u, &d, name, '\0');
    socklen_t len = (socklen_t)(PATH_OFF + pl + 1);
    addr_set_len(&u, len);
    int l = unix_socket(SOCK_STREAM), fd = unix_socket(SOCK_STREAM);
    if (bind(l, (struct sockaddr *)&u.sun, len) < 0 || listen(l, 1) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "ok,%s",
                connect(fd, (struct sockaddr *)&u.sun, len) == 0 ? "ok"
                                                                 : sockspec_errno_name(errno));
    xclose(&fd);
    xclose(&l);
    const char *names[] = {name};
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(path_longest_with_nul, KINDS_NONE)

/* 1 if "<d>/<name>" exists as a socket. */
static int socket_exists(const struct scratch_dir *d, const char *name)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", d->path, name);
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

CHECK(path_len_stops_short,
      "sun_path holds \"<dir>/abcXYZ\" and its NUL, the address length stops after \"abc\": the "
      "name created (\"abc\": the length rules), or the errno.")
{
    struct scratch_dir d;
    union addr u;
    xscratch_dir(&d);
    size_t pl = path_in(&u, &d, "abcXYZ", '\0');
    socklen_t len = (socklen_t)(PATH_OFF + pl - 3);
    addr_set_len(&u, len);
    int fd = unix_socket(SOCK_DGRAM);
    if (bind(fd, (struct sockaddr *)&u.sun, len) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%s",
                socket_exists(&d, "abc")      ? "abc"
                : socket_exists(&d, "abcXYZ") ? "abcXYZ"
                                              : "neither");
    xclose(&fd);
    const char *names[] = {"abc", "abcXYZ"};
    xscratch_dir_remove(&d, names, 2);
}
INSTANTIATE(path_len_stops_short, KINDS_NONE)

CHECK(path_fills_sun_path_getsockname,
      "A path of 108 bytes bound without a NUL (sun_path full): getsockname() into a struct "
      "sockaddr_un, \"<length reported>,<name>\" (the length may exceed the struct).")
{
    struct scratch_dir d;
    union addr u, got;
    char name[sizeof u.sun.sun_path], s[64];
    xscratch_dir(&d);
    filler_name(&d, sizeof u.sun.sun_path, name, sizeof name);
    size_t pl = path_in(&u, &d, name, '\0');
    socklen_t len = (socklen_t)(PATH_OFF + pl), gl = sizeof got.sun;
    addr_set_len(&u, len);
    int fd = unix_socket(SOCK_DGRAM);
    memcheck_expect_bad_argument(1); /* no NUL fits: valgrind reads past sun_path */
    int r = bind(fd, (struct sockaddr *)&u.sun, len);
    memcheck_expect_bad_argument(0);
    if (r < 0) {
        outcome(c, "bind %s", sockspec_errno_name(errno));
    } else {
        memset(&got, 'g', sizeof got);
        REQUIRE(getsockname(fd, (struct sockaddr *)&got.sun, &gl) == 0, "getsockname: %s",
                sockspec_errno_name(errno));
        socklen_t shown = gl < sizeof got.sun ? gl : (socklen_t)sizeof got.sun;
        outcome(c, "%u,%s", (unsigned)gl, unix_name_str(&got.sun, shown, s, sizeof s));
    }
    xclose(&fd);
    const char *names[] = {name};
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(path_fills_sun_path_getsockname, KINDS_NONE)

CHECK(path_trailing_slash_bind,
      "bind() to \"<dir>/s/\" (a trailing slash, nothing there yet): the errno, or \"ok\" and "
      "what it created.")
{
    struct scratch_dir d;
    union addr u;
    xscratch_dir(&d);
    size_t pl = path_in(&u, &d, "s/", '\0');
    socklen_t len = (socklen_t)(PATH_OFF + pl + 1);
    addr_set_len(&u, len);
    int fd = unix_socket(SOCK_STREAM);
    if (bind(fd, (struct sockaddr *)&u.sun, len) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "ok,%s", socket_exists(&d, "s") ? "s" : "nothing named s");
    xclose(&fd);
    const char *names[] = {"s"};
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(path_trailing_slash_bind, KINDS_NONE)

CHECK(path_trailing_slash_connect,
      "connect() to \"<dir>/s/\" while a listener is bound at \"<dir>/s\": the errno (a socket is "
      "not a directory: ENOTDIR), or \"ok\".")
{
    struct scratch_dir d;
    union addr u;
    xscratch_dir(&d);
    size_t pl = path_in(&u, &d, "s", '\0');
    socklen_t len = (socklen_t)(PATH_OFF + pl + 1);
    addr_set_len(&u, len);
    int l = unix_socket(SOCK_STREAM), fd = unix_socket(SOCK_STREAM);
    if (bind(l, (struct sockaddr *)&u.sun, len) < 0 || listen(l, 1) < 0) {
        outcome(c, "listener %s", sockspec_errno_name(errno));
    } else {
        pl = path_in(&u, &d, "s/", '\0');
        len = (socklen_t)(PATH_OFF + pl + 1);
        addr_set_len(&u, len);
        outcome_ok(c, connect(fd, (struct sockaddr *)&u.sun, len));
    }
    xclose(&fd);
    xclose(&l);
    const char *names[] = {"s"};
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(path_trailing_slash_connect, KINDS_NONE)

CHECK(path_len_beyond_struct,
      "A short path with its NUL, passed with an address length one byte more than struct "
      "sockaddr_un: the errno (Linux: EINVAL), or \"ok\".")
{
    struct scratch_dir d;
    union addr u;
    xscratch_dir(&d);
    path_in(&u, &d, "b", '\0');
    socklen_t len = (socklen_t)sizeof u.sun + 1;
    addr_set_len(&u, len);
    int fd = unix_socket(SOCK_STREAM);
    outcome_ok(c, bind(fd, (struct sockaddr *)&u.sun, len));
    xclose(&fd);
    const char *names[] = {"b"};
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(path_len_beyond_struct, KINDS_NONE)
