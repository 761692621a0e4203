/*
 * init for running the plain runner under user-mode Linux (ci/run-elsewhere): the guest's root
 * is the host's / over hostfs, read-only. This mounts what the suite needs (proc, tmpfs
 * scratch space, the host's results directory read-write at /run/out), brings the
 * loopback interface up, loads IPv6 (a module in Debian's UML kernel), runs the command given
 * after "--" on the kernel command line, prints "uml-init: exit status N" and powers off.
 *   linux.uml ... init=<this> -- <host results dir> <host kernel> <program> <args...>
 * The host kernel ("Linux_6.18.44": the command line splits at spaces) reaches the program as
 * SOCKSPEC_HOST_KERNEL ("Linux 6.18.44").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void try_mount(const char *src, const char *dst, const char *type, const char *data)
{
    mkdir(dst, 0755);
    if (mount(src, dst, type, 0, data) != 0)
        fprintf(stderr, "uml-init: mount %s on %s: %s\n", type, dst, strerror(errno));
}

static void loopback_up(void)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)) != 0)
        fprintf(stderr, "uml-init: lo up: %s\n", strerror(errno));
    if (s >= 0)
        close(s);
}

/* Loads <modules>/<release>/kernel/<rel> (no modprobe in the guest). */
static void load_module(const char *release, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "/usr/lib/uml/modules/%s/kernel/%s", release, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) != 0)
        if (errno != EEXIST)
            fprintf(stderr, "uml-init: load %s: %s\n", path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv)
{
    struct utsname u;
    if (argc < 4) {
        fprintf(stderr, "uml-init: usage: -- <host results dir> <host kernel> <program> [args]\n");
        reboot(RB_POWER_OFF);
        return 1;
    }
    /* UML appends its own root= to the command line, which reaches init after our arguments. */
    /* UML appends root= and console= of its own, which reach init after our arguments. */
    while (argc > 4 && (strncmp(argv[argc - 1], "root=", 5) == 0 ||
                        strncmp(argv[argc - 1], "console=", 8) == 0))
        argv[--argc] = NULL;
    try_mount("proc", "/proc", "proc", NULL);
    /* Not over /tmp: the program may live there on the host (a clone under /tmp). */
    try_mount("tmpfs", "/run", "tmpfs", NULL);
    try_mount("tmpfs", "/dev/shm", "tmpfs", NULL);
    try_mount("none", "/run/out", "hostfs", argv[1]);
    mkdir("/run/tmp", 01777);
    loopback_up();
    if (uname(&u) == 0) {
        load_module(u.release, "lib/crc-ccitt.ko");
        load_module(u.release, "net/ipv6/ipv6.ko");
    }
    int st = 0;
    pid_t pid = fork();
    if (pid == 0) {
        char *sep = strchr(argv[2], '_');
        if (sep)
            *sep = ' ';
        setenv("SOCKSPEC_HOST_KERNEL", argv[2], 1);
        setenv("TMPDIR", "/run/tmp", 1);
        execv(argv[3], argv + 3);
        fprintf(stderr, "uml-init: exec %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    printf("uml-init: exit status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
