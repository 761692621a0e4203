/* A child passes the read end of a pipe to its parent (frame.3, EXAMPLES). */
#define _POSIX_C_SOURCE 200809L

#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <frame.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { MSG_PIPE = 1 };

static int child(int sock)
{
    struct frame_chan c;
    int p[2], r;

    if (frame_chan_init(&c, sock, NULL) == -1)
        err(1, "frame_chan_init");
    if (pipe(p) == -1)
        err(1, "pipe");
    if (write(p[1], "hello", 5) != 5)
        err(1, "write");
    close(p[1]);
    /* FRAME_FDS_TAKE: p[0] is the library's from here on, sent or closed. */
    r = frame_send_wait(&c, MSG_PIPE, 0, NULL, 0, p, 1, FRAME_FDS_TAKE, 5000);
    if (r == -1)
        err(1, "frame_send_wait");
    frame_chan_fini(&c);
    return 0;
}

static void parent(int sock)
{
    struct frame_chan c;
    struct frame_msg msg;
    char buf[16];
    ssize_t n;
    int fd, r;

    if (frame_chan_init(&c, sock, NULL) == -1)
        err(1, "frame_chan_init");
    if ((r = frame_recv_wait(&c, &msg, 5000)) == -1)
        err(1, "frame_recv_wait");
    if (r == 0)
        errx(1, "the child closed the channel");
    if (msg.type != MSG_PIPE || msg.nfds != 1)
        errx(1, "unexpected message type %u", (unsigned)msg.type);
    fd = frame_msg_take_fd(&msg, 0);
    frame_msg_release(&msg);
    if (fd == -1)
        err(1, "frame_msg_take_fd");
    if ((n = read(fd, buf, sizeof(buf) - 1)) == -1)
        err(1, "read");
    buf[n] = 0;
    if (strcmp(buf, "hello") != 0)
        errx(1, "read '%s' from the child's pipe", buf);
    puts(buf);
    close(fd);
    frame_chan_fini(&c);
}

int main(void)
{
    int sv[2], status;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        err(1, "socketpair");
    if ((pid = fork()) == -1)
        err(1, "fork");
    if (pid == 0) {
        close(sv[0]);
        _exit(child(sv[1]));
    }
    close(sv[1]);
    parent(sv[0]);
    close(sv[0]);
    if (waitpid(pid, &status, 0) == -1)
        err(1, "waitpid");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
