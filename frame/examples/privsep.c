/*
 * Privilege separation over a socketpair: the child never opens a file itself; it asks
 * the parent, which checks the request against its policy and sends back a descriptor
 * or an errno. Exits 0 only when every request got the expected answer.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"

enum { MSG_OPEN = 1, MSG_FD, MSG_ERR, MSG_DONE };

#define TIMEOUT_MS 10000

static char dir[] = "/tmp/frame-privsep-XXXXXX";

static int put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return 4;
}

/* MSG_ERR's payload: exactly one little-endian 32-bit errno. 0, or -1 if malformed. */
static int read_err(const struct frame_msg *m, int *err)
{
    struct frame_reader r;
    uint32_t v;

    frame_reader_init(&r, m->payload, m->len);
    if (frame_read_u32le(&r, &v) == -1 || frame_reader_end(&r) == -1)
        return -1;
    *err = (int)v;
    return 0;
}

/* The parent's policy: plain names inside its directory, read-only. */
static int policy_open(const char *name, size_t len)
{
    char path[1024];

    if (len == 0 || len > 255 || memchr(name, '/', len) || memchr(name, '\0', len) ||
        (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))) {
        errno = EACCES;
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%.*s", dir, (int)len, name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

static int parent_serve(struct frame_chan *c)
{
    struct frame_msg m;
    unsigned char err[4];
    int r, fd, served = 0;

    while ((r = frame_recv_wait(c, &m, TIMEOUT_MS)) == 1) {
        if (m.type == MSG_DONE)
            return served == 3 ? 0 : -1;
        if (m.type != MSG_OPEN || m.nfds != 0) {
            fprintf(stderr, "parent: unexpected message %u\n", m.type);
            return -1;
        }
        served++;
        if ((fd = policy_open(m.payload, m.len)) == -1) {
            printf("parent: refused \"%.*s\": %s\n", (int)m.len, (const char *)m.payload,
                   strerror(errno));
            put_u32(err, (uint32_t)errno);
            r = frame_send_wait(c, MSG_ERR, m.id, err, 4, NULL, 0, FRAME_FDS_BORROW, TIMEOUT_MS);
        } else {
            printf("parent: granted \"%.*s\"\n", (int)m.len, (const char *)m.payload);
            r = frame_send_wait(c, MSG_FD, m.id, NULL, 0, &fd, 1, FRAME_FDS_TAKE, TIMEOUT_MS);
        }
        if (r == -1) {
            perror("parent: send");
            return -1;
        }
    }
    fprintf(stderr, "parent: receive: %s\n", r == 0 ? "end of file" : strerror(errno));
    return -1;
}

/* Asks for name; returns the descriptor, or -1 with the parent's errno. */
static int child_ask(struct frame_chan *c, uint32_t id, const char *name)
{
    struct frame_msg m;
    int fd = -1, err;

    if (frame_send_wait(c, MSG_OPEN, id, name, strlen(name), NULL, 0, FRAME_FDS_BORROW,
                        TIMEOUT_MS) == -1 ||
        frame_recv_wait(c, &m, TIMEOUT_MS) != 1)
        return -2;
    if (m.id != id)
        return -2;
    if (m.type == MSG_FD && m.nfds == 1) {
        fd = frame_msg_take_fd(&m, 0);
    } else if (m.type == MSG_ERR && read_err(&m, &err) == 0) {
        errno = err;
    } else {
        fd = -2;
    }
    frame_msg_release(&m);
    return fd;
}

/* 1 if the parent refused path with the error want; a granted descriptor is closed. */
static int child_refused(struct frame_chan *c, uint32_t id, const char *path, int want)
{
    int fd = child_ask(c, id, path);
    if (fd >= 0) {
        close(fd);
        fprintf(stderr, "child: %s was granted\n", path);
        return 0;
    }
    if (errno != want) {
        fprintf(stderr, "child: %s refused with %s\n", path, strerror(errno));
        return 0;
    }
    return 1;
}

static int child_main(struct frame_chan *c)
{
    char buf[64];
    ssize_t n;
    int fd, fails = 0;

    fd = child_ask(c, 1, "secret.txt");
    if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) != 14 ||
        memcmp(buf, "hello, child!\n", 14) != 0) {
        fprintf(stderr, "child: secret.txt: wrong answer\n");
        fails++;
    } else {
        printf("child: read %zd bytes through the parent's descriptor\n", n);
    }
    if (fd >= 0 && !(fcntl(fd, F_GETFD) & FD_CLOEXEC)) {
        fprintf(stderr, "child: received descriptor is not close-on-exec\n");
        fails++;
    }
    if (fd >= 0)
        close(fd);
    fails += !child_refused(c, 2, "../../etc/passwd", EACCES);
    fails += !child_refused(c, 3, "missing.txt", ENOENT);
    if (frame_send_wait(c, MSG_DONE, 4, NULL, 0, NULL, 0, FRAME_FDS_BORROW, TIMEOUT_MS) == -1)
        fails++;
    printf("child: %s\n", fails ? "FAILED" : "all answers as expected");
    return fails ? 1 : 0;
}

static int make_files(void)
{
    char path[1024];
    FILE *f;

    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/secret.txt", dir);
    if ((f = fopen(path, "w")) == NULL)
        return -1;
    fputs("hello, child!\n", f);
    return fclose(f);
}

static void remove_files(void)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/secret.txt", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    struct frame_chan c;
    int sv[2], status, r;
    pid_t pid;

    if (make_files() == -1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
        perror("setup");
        remove_files();
        return 1;
    }
    fflush(stdout);
    if ((pid = fork()) == -1) {
        perror("fork");
        remove_files();
        return 1;
    }
    if (pid == 0) {
        close(sv[0]);
        if (frame_chan_init(&c, sv[1], NULL) == -1)
            _exit(2);
        r = child_main(&c);
        frame_chan_fini(&c);
        fflush(stdout);
        _exit(r);
    }
    close(sv[1]);
    if (frame_chan_init(&c, sv[0], NULL) == -1) {
        perror("frame_chan_init");
        r = -1;
    } else {
        r = parent_serve(&c);
        frame_chan_fini(&c);
    }
    close(sv[0]);
    if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        r = -1;
    remove_files();
    printf("privsep: %s\n", r == 0 ? "ok" : "FAILED");
    return r == 0 ? 0 : 1;
}
