#include "fdset.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* One poll() over every slot: closed descriptors answer POLLNVAL. */
int fdset_probe(struct fdset *s)
{
    static struct pollfd p[FDSET_MAX];
    struct rlimit rl;
    int n = FDSET_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n)
        n = (int)rl.rlim_cur;
    for (int i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = i, .events = 0};
    int r;
again:
    r = poll(p, (nfds_t)n, 0);
    if (r < 0 && errno == EINTR)
        goto again;
    if (r < 0)
        return -1;
    memset(s->open, 0, sizeof s->open);
    s->limit = n;
    for (int i = 0; i < n; i++)
        s->open[i] = !(p[i].revents & POLLNVAL);
    return 0;
}

int fdset_diff(const struct fdset *before, const struct fdset *after, char *buf, size_t len)
{
    int leaked = 0;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < after->limit; i++) {
        if (!after->open[i] || (i < before->limit && before->open[i]))
            continue;
        leaked = 1;
        int w = snprintf(buf + used, len - used, "%s%d", used ? "," : "", i);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    return leaked;
}
