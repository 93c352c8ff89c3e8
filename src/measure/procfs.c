/* procfs.c -- readers of /proc for the sampler: system CPU and memory, and
 * the CPU and memory of a process tree.
 *
 * Cheapness matters (the sampler may run at 200 Hz): files are opened once and
 * re-read with pread; the tree is not rediscovered by scanning /proc at every
 * sample. Instead the last allocated PID (5th field of /proc/loadavg) tells
 * whether any process or thread was created since the previous sample, and
 * only the PIDs allocated since then are examined.
 *
 * CPU of the tree = sum over its live processes of utime+stime+cutime+cstime.
 * When a child exits and its parent (in the tree) reaps it, the child's time
 * moves into the parent's cutime/cstime, so the sum stays continuous and
 * short-lived children that lived between two samples are still counted. */
#include "measure_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void el_mpath(char *buf, size_t cap, const char *root, const char *rel)
{
    if (!root || !*root || strcmp(root, "/") == 0) root = "";
    size_t rl = strlen(root);
    while (rl > 0 && root[rl - 1] == '/') rl--;
    snprintf(buf, cap, "%.*s%s", (int)rl, root, rel);
}

long el_pread_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = pread(fd, buf + n, cap - 1 - n, (off_t)n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
        // procfs hands out the whole (small) file in one read; asking again
        // at the end would make the kernel generate it a second time
        if (n + 1 < cap) break;
    }
    buf[n] = 0;
    return (long)n;
}

long el_read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    long n = el_pread_all(fd, buf, cap);
    close(fd);
    return n;
}

char *el_slurp(const char *path, size_t *len, el_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        el_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = el_malloc(cap + 1, err);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        if (cap > ((size_t)1 << 30)) {
            el_errf(err, "%s: file larger than 1 GB", path);
            free(buf);
            buf = NULL;
            break;
        }
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            el_errf(err, "%s: out of memory", path);
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
    }
    if (buf && ferror(f)) {
        el_errf(err, "%s: read error", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* ---- /proc/stat and /proc/meminfo ------------------------------------------ */

int el_parse_proc_stat(const char *text, unsigned long long *busy, unsigned long long *total,
                       int *n_cpus)
{
    // first line: "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
    if (strncmp(text, "cpu ", 4) != 0) return -1;
    const char *p = text + 4;
    unsigned long long v[8] = {0};
    int k = 0;
    for (; k < 8; k++) {
        while (*p == ' ') p++;
        if (!isdigit((unsigned char)*p)) break;
        char *end;
        v[k] = strtoull(p, &end, 10);
        p = end;
    }
    if (k < 4) return -1;
    // guest time is already included in user; idle and iowait are not busy
    unsigned long long tot = 0;
    for (int i = 0; i < 8; i++) tot += v[i];
    *total = tot;
    *busy = tot - v[3] - v[4];
    if (n_cpus) {
        int n = 0;
        for (const char *q = strchr(text, '\n'); q; q = strchr(q + 1, '\n'))
            if (strncmp(q + 1, "cpu", 3) == 0 && isdigit((unsigned char)q[4])) n++;
        *n_cpus = n;
    }
    return 0;
}

static int meminfo_key(const char *text, const char *key, double *mb)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
            *mb = strtod(p + kl + 1, NULL) / 1024.0;  // kB -> MB
            return 0;
        }
    }
    return -1;
}

int el_parse_meminfo(const char *text, double *total_mb, double *avail_mb)
{
    if (meminfo_key(text, "MemTotal", total_mb) != 0) return -1;
    if (meminfo_key(text, "MemAvailable", avail_mb) != 0) {
        // kernels before 3.14: approximate with free + buffers + cached
        double f = 0, b = 0, c = 0;
        if (meminfo_key(text, "MemFree", &f) != 0) return -1;
        meminfo_key(text, "Buffers", &b);
        meminfo_key(text, "Cached", &c);
        *avail_mb = f + b + c;
    }
    return 0;
}

int el_sysreader_open(el_sysreader *s, const char *root, el_err *err)
{
    char path[4096], buf[1 << 14];
    memset(s, 0, sizeof *s);
    s->fd_stat = s->fd_meminfo = -1;
    long hz = sysconf(_SC_CLK_TCK);
    s->tick_s = 1.0 / (double)(hz > 0 ? hz : 100);
    el_mpath(path, sizeof path, root, "/proc/stat");
    s->fd_stat = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd_stat < 0) return el_errf(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned long long b, t;
    if (el_pread_all(s->fd_stat, buf, sizeof buf) < 0 ||
        el_parse_proc_stat(buf, &b, &t, &s->n_cpus) != 0) {
        el_sysreader_close(s);
        return el_errf(err, "%s: first line is not 'cpu <user> <nice> <system> <idle> ...'", path);
    }
    if (s->n_cpus <= 0) s->n_cpus = 1;
    el_mpath(path, sizeof path, root, "/proc/meminfo");
    s->fd_meminfo = open(path, O_RDONLY | O_CLOEXEC);
    double avail;
    if (s->fd_meminfo < 0 || el_pread_all(s->fd_meminfo, buf, sizeof buf) < 0 ||
        el_parse_meminfo(buf, &s->mem_total_mb, &avail) != 0) {
        el_sysreader_close(s);
        return el_errf(err, "%s: cannot read MemTotal and MemAvailable", path);
    }
    return 0;
}

int el_sysreader_read(el_sysreader *s, el_sysreading *r, bool want_mem, el_err *err)
{
    char buf[1 << 14];
    if (el_pread_all(s->fd_stat, buf, sizeof buf) < 0 ||
        el_parse_proc_stat(buf, &r->busy_ticks, &r->total_ticks, NULL) != 0)
        return el_errf(err, "/proc/stat: unreadable cpu line");
    if (!want_mem) return 0;  // r->mem_used_mb keeps the caller's previous value
    double tot, avail;
    if (el_pread_all(s->fd_meminfo, buf, sizeof buf) < 0 || el_parse_meminfo(buf, &tot, &avail) != 0)
        return el_errf(err, "/proc/meminfo: no MemTotal/MemAvailable");
    r->mem_used_mb = tot - avail;
    return 0;
}

void el_sysreader_close(el_sysreader *s)
{
    if (s->fd_stat >= 0) close(s->fd_stat);
    if (s->fd_meminfo >= 0) close(s->fd_meminfo);
    s->fd_stat = s->fd_meminfo = -1;
}

/* ---- /proc/PID/stat -------------------------------------------------------- */

int el_parse_pid_stat(const char *text, int *ppid, unsigned long long t[4], long *nthreads)
{
    return el_parse_pid_stat_rss(text, ppid, t, nthreads, NULL);
}

int el_parse_pid_stat_rss(const char *text, int *ppid, unsigned long long t[4], long *nthreads, long *rss_pages)
{
    // "pid (comm) state ppid ..." -- comm may hold spaces and parentheses
    const char *p = strrchr(text, ')');
    if (!p) return -1;
    p++;
    // fields after ')' : 3 state, 4 ppid, ..., 14 utime, 15 stime, 16 cutime,
    // 17 cstime, 18 priority, 19 nice, 20 num_threads, ... 24 rss (pages)
    long long f[25];
    int field = 3, last = rss_pages ? 24 : 20;
    while (field <= last) {
        while (*p == ' ') p++;
        if (!*p || *p == '\n') return -1;
        if (field == 3) {
            while (*p && *p != ' ') p++;
        } else {
            char *end;
            f[field] = strtoll(p, &end, 10);
            if (end == p) return -1;
            p = end;
        }
        field++;
    }
    if (ppid) *ppid = (int)f[4];
    if (t)
        for (int i = 0; i < 4; i++) t[i] = f[14 + i] < 0 ? 0 : (unsigned long long)f[14 + i];
    if (nthreads) *nthreads = (long)f[20];
    if (rss_pages) *rss_pages = f[24] < 0 ? 0 : (long)f[24];
    return 0;
}

/* ---- the tree ------------------------------------------------------------- */

typedef struct proc_slot {
    int pid;
    int fd_stat, fd_statm, fd_smaps;
} proc_slot;

struct el_tree {
    char root[2048];
    double tick_s;
    long page_kb;
    int root_pid;
    proc_slot *p;
    int n, cap;
    long last_pid;     /* from /proc/loadavg at the last discovery */
    long pid_max;
    int fd_loadavg;
    bool smaps_ok;     /* smaps_rollup exists (kernel >= 4.14) */
    double last_pss_mb;
};

static int tree_find(const el_tree *tr, int pid)
{
    for (int i = 0; i < tr->n; i++)
        if (tr->p[i].pid == pid) return i;
    return -1;
}

static void slot_close(proc_slot *s)
{
    if (s->fd_stat >= 0) close(s->fd_stat);
    if (s->fd_statm >= 0) close(s->fd_statm);
    if (s->fd_smaps >= 0) close(s->fd_smaps);
    s->fd_stat = s->fd_statm = s->fd_smaps = -1;
}

static int tree_add(el_tree *tr, int pid, el_err *err)
{
    if (tree_find(tr, pid) >= 0) return 0;
    char rel[64], path[4200];
    snprintf(rel, sizeof rel, "/proc/%d/stat", pid);
    el_mpath(path, sizeof path, tr->root, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;  // gone already: nothing to track
    if (tr->n == tr->cap) {
        int nc = tr->cap ? tr->cap * 2 : 16;
        proc_slot *np = realloc(tr->p, (size_t)nc * sizeof *np);
        if (!np) {
            close(fd);
            return el_errf(err, "out of memory tracking process %d", pid);
        }
        tr->p = np;
        tr->cap = nc;
    }
    proc_slot *s = &tr->p[tr->n++];
    s->pid = pid;
    s->fd_stat = fd;
    s->fd_statm = -1;
    // smaps_rollup is opened at each read: an fd opened before an exec
    // would keep describing the old address space
    s->fd_smaps = -1;
    return 0;
}

static long read_last_pid(el_tree *tr)
{
    char buf[256];
    if (tr->fd_loadavg < 0 || el_pread_all(tr->fd_loadavg, buf, sizeof buf) <= 0) return -1;
    // "0.00 0.01 0.05 1/123 4567"
    const char *p = strrchr(buf, ' ');
    return p ? strtol(p + 1, NULL, 10) : -1;
}

/* ppid of a process (not a thread) pid; -1 if gone or a thread. */
static int ppid_of_process(const el_tree *tr, int pid, bool check_thread)
{
    char rel[64], path[4200], buf[2048];
    if (check_thread) {
        // a thread id also has /proc/TID/ (hidden); status says whose it is
        snprintf(rel, sizeof rel, "/proc/%d/status", pid);
        el_mpath(path, sizeof path, tr->root, rel);
        if (el_read_small(path, buf, sizeof buf) <= 0) return -1;
        const char *tg = strstr(buf, "\nTgid:");
        const char *pp = strstr(buf, "\nPPid:");
        if (!tg || !pp) return -1;
        if (atoi(tg + 6) != pid) return -1;
        return atoi(pp + 6);
    }
    snprintf(rel, sizeof rel, "/proc/%d/stat", pid);
    el_mpath(path, sizeof path, tr->root, rel);
    int ppid;
    if (el_read_small(path, buf, sizeof buf) <= 0 || el_parse_pid_stat(buf, &ppid, NULL, NULL) != 0)
        return -1;
    return ppid;
}

/* Add candidates whose parent is tracked, until nothing changes (a new child
 * and its own new child may appear in any order). */
static int adopt(el_tree *tr, int *cand, int *ppid, int nc, el_err *err)
{
    bool changed = true;
    while (changed) {
        changed = false;
        for (int i = 0; i < nc; i++) {
            if (cand[i] <= 0 || tree_find(tr, ppid[i]) < 0) continue;
            int rc = tree_add(tr, cand[i], err);
            if (rc < 0) return -1;
            cand[i] = 0;
            changed = true;
        }
    }
    return 0;
}

/* Full scan of /proc: every process whose ancestry reaches a tracked one. */
static int discover_scan(el_tree *tr, long lo, long hi, el_err *err)
{
    char path[4200];
    el_mpath(path, sizeof path, tr->root, "/proc");
    DIR *d = opendir(path);
    if (!d) return el_errf(err, "%s: cannot list: %s", path, strerror(errno));
    int *cand = NULL, *pp = NULL, nc = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        long pid = strtol(e->d_name, NULL, 10);
        if (pid <= 0 || pid > 0x7fffffff || tree_find(tr, (int)pid) >= 0) continue;
        if (lo >= 0 && !(lo <= hi ? (pid > lo && pid <= hi) : (pid > lo || pid <= hi))) continue;
        int ppid = ppid_of_process(tr, (int)pid, false);
        if (ppid < 0) continue;
        if (nc == cap) {
            cap = cap ? cap * 2 : 256;
            int *a = realloc(cand, (size_t)cap * sizeof *a);
            if (a) cand = a;
            int *b = realloc(pp, (size_t)cap * sizeof *b);
            if (b) pp = b;
            if (!a || !b) {
                rc = el_errf(err, "out of memory scanning /proc");
                break;
            }
        }
        cand[nc] = (int)pid;
        pp[nc++] = ppid;
    }
    closedir(d);
    if (rc == 0) rc = adopt(tr, cand, pp, nc, err);
    free(cand);
    free(pp);
    return rc;
}

/* Look only at the PIDs allocated since the last discovery. */
static int discover_new(el_tree *tr, el_err *err)
{
    long last = read_last_pid(tr);
    if (last < 0) return discover_scan(tr, -1, -1, err);  // no loadavg: scan everything
    if (last == tr->last_pid) return 0;
    long lo = tr->last_pid, hi = last;
    tr->last_pid = last;
    long span = hi > lo ? hi - lo : (tr->pid_max - lo) + hi;
    if (span > 64) return discover_scan(tr, lo, hi, err);
    int cand[64], pp[64], nc = 0;
    for (long k = 1; k <= span; k++) {
        long pid = lo + k;
        if (pid > tr->pid_max) pid -= tr->pid_max;
        if (pid <= 0 || tree_find(tr, (int)pid) >= 0) continue;
        int ppid = ppid_of_process(tr, (int)pid, true);
        if (ppid < 0) continue;
        cand[nc] = (int)pid;
        pp[nc++] = ppid;
    }
    return adopt(tr, cand, pp, nc, err);
}

el_tree *el_tree_open(const char *root, double tick_s, el_err *err)
{
    el_tree *tr = el_calloc(1, sizeof *tr, err);
    if (!tr) return NULL;
    snprintf(tr->root, sizeof tr->root, "%s", root ? root : "/");
    tr->tick_s = tick_s;
    long pg = sysconf(_SC_PAGESIZE);
    tr->page_kb = (pg > 0 ? pg : 4096) / 1024;
    tr->fd_loadavg = -1;
    tr->last_pss_mb = -1;
    char path[4200], buf[64];
    el_mpath(path, sizeof path, tr->root, "/proc/sys/kernel/pid_max");
    tr->pid_max = el_read_small(path, buf, sizeof buf) > 0 ? strtol(buf, NULL, 10) : 4194304;
    if (tr->pid_max <= 0) tr->pid_max = 4194304;
    el_mpath(path, sizeof path, tr->root, "/proc/loadavg");
    tr->fd_loadavg = open(path, O_RDONLY | O_CLOEXEC);
    el_mpath(path, sizeof path, tr->root, "/proc/self/smaps_rollup");
    tr->smaps_ok = access(path, R_OK) == 0;
    if (!tr->smaps_ok && strcmp(tr->root, "/") != 0) {
        // fake trees have no "self": any smaps_rollup under proc counts
        tr->smaps_ok = true;
    }
    return tr;
}

int el_tree_set_root(el_tree *tr, int pid, el_err *err)
{
    for (int i = 0; i < tr->n; i++) slot_close(&tr->p[i]);
    tr->n = 0;
    tr->root_pid = pid;
    if (pid <= 0) return 0;
    int rc = tree_add(tr, pid, err);
    if (rc < 0) return -1;
    if (rc > 0) {
        char path[4200], rel[64];
        snprintf(rel, sizeof rel, "/proc/%d/stat", pid);
        el_mpath(path, sizeof path, tr->root, rel);
        return el_errf(err, "%s: no such process", path);
    }
    tr->last_pid = read_last_pid(tr);
    return discover_scan(tr, -1, -1, err);
}

static double pss_of(const el_tree *tr, int pid)
{
    char buf[4096], rel[64], path[4200];
    snprintf(rel, sizeof rel, "/proc/%d/smaps_rollup", pid);
    el_mpath(path, sizeof path, tr->root, rel);
    if (!tr->smaps_ok) return -2;
    errno = 0;
    if (el_read_small(path, buf, sizeof buf) <= 0) return (errno == EACCES || errno == EPERM) ? -2 : -1;
    const char *p = strstr(buf, "\nPss:");
    if (!p) return -1;
    return strtod(p + 5, NULL) / 1024.0;
}

int el_tree_read(el_tree *tr, bool want_pss, bool discover, el_treereading *r, el_err *err)
{
    memset(r, 0, sizeof *r);
    r->pss_mb = -1;
    if (tr->root_pid <= 0) {
        r->pss_mb = tr->last_pss_mb = 0;
        return 0;
    }
    if (discover && discover_new(tr, err) != 0) return -1;
    double pss = 0;
    bool pss_all = tr->smaps_ok;
    for (int i = 0; i < tr->n;) {
        proc_slot *s = &tr->p[i];
        char buf[2048];
        unsigned long long t[4];
        long rss_pages;
        if (el_pread_all(s->fd_stat, buf, sizeof buf) <= 0 ||
            el_parse_pid_stat_rss(buf, NULL, t, NULL, &rss_pages) != 0) {
            // exited (and reaped): its time now lives in its parent's cutime
            slot_close(s);
            tr->p[i] = tr->p[--tr->n];
            continue;
        }
        r->user_ticks += t[0] + t[2];
        r->sys_ticks += t[1] + t[3];
        r->n_procs++;
        // resident set: field 24 of stat (the same count statm reports)
        r->rss_mb += (double)rss_pages * (double)tr->page_kb / 1024.0;
        if (want_pss) {
            double v = pss_of(tr, s->pid);
            // -2: not allowed to read it (another user's process): PSS of
            // the tree is unavailable; -1: the process is exiting or gone
            // (its address space is already released): it holds nothing
            if (v == -2) pss_all = false;
            else if (v > 0) pss += v;
        }
        i++;
    }
    if (want_pss) tr->last_pss_mb = pss_all ? pss : -1;
    r->pss_mb = tr->last_pss_mb;
    return 0;
}

void el_tree_close(el_tree *tr)
{
    if (!tr) return;
    for (int i = 0; i < tr->n; i++) slot_close(&tr->p[i]);
    if (tr->fd_loadavg >= 0) close(tr->fd_loadavg);
    free(tr->p);
    free(tr);
}
