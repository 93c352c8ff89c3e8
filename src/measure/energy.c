/* energy.c -- energy sources: RAPL (powercap), perf power/energy-pkg/, hwmon,
 * the Raspberry Pi 5 PMIC, an external meter's log, and a utilisation power
 * model. Each source reports cumulative joules since it was opened; the
 * profiler differences them per window. Every source is labelled "measured"
 * or "estimated" (the model, and the PMIC with its wall correction).
 *
 * Never double counting: RAPL sums only package domains (plus DRAM domains
 * when asked), never core/uncore/psys sub-domains, never the MMIO mirror of a
 * package; hwmon uses one device, and for amd_energy only its socket
 * counters when they exist. */
#include "measure_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/perf_event.h>

extern char **environ;

#define MAX_CTR 32

typedef struct counter {
    int fd;
    double scale_j;          /* joules per counter unit */
    double max_range;        /* wraps after this many units (0: 64-bit) */
    unsigned long long last;
    double acc_j;
    bool perf;               /* a perf fd: 8-byte binary read */
} counter;

struct el_energy {
    int kind;
    char name[64], label[16], detail[512], auto_log[512];
    char root[2048];
    counter ctr[MAX_CTR];
    int n_ctr;
    /* power-based sources (hwmon power, pmic): trapezoid of readings */
    int pw_fd[MAX_CTR];
    int n_pw;
    double pw_scale;         /* watts per unit */
    bool have_p;
    double last_t, last_p, cum_j;
    /* pmic */
    char pmic_cmd[4200];
    double pmic_period;
    bool pmic_wall;
    /* model */
    el_power_profile prof;
    bool have_t;
    /* meter */
    char meter_path[4096];
};

static void ctr_close(el_energy *e)
{
    for (int i = 0; i < e->n_ctr; i++)
        if (e->ctr[i].fd >= 0) close(e->ctr[i].fd);
    for (int i = 0; i < e->n_pw; i++)
        if (e->pw_fd[i] >= 0) close(e->pw_fd[i]);
    e->n_ctr = e->n_pw = 0;
}

void el_energy_close(el_energy *e)
{
    if (!e) return;
    ctr_close(e);
    free(e);
}

int el_energy_kind(const el_energy *e) { return e->kind; }
const char *el_energy_name(const el_energy *e) { return e->name; }
const char *el_energy_label(const el_energy *e) { return e->label; }
const char *el_energy_detail(const el_energy *e) { return e->detail; }
const char *el_energy_auto_log(const el_energy *e) { return e->auto_log; }
const el_power_profile *el_energy_profile(const el_energy *e)
{
    return e->kind == EL_EN_MODEL ? &e->prof : NULL;
}
const char *el_energy_meter_path(const el_energy *e)
{
    return e->kind == EL_EN_METER ? e->meter_path : NULL;
}

static void appendf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static int read_ull(int fd, unsigned long long *v)
{
    char buf[64];
    if (el_pread_all(fd, buf, sizeof buf) <= 0) return -1;
    char *end;
    errno = 0;
    *v = strtoull(buf, &end, 10);
    return (end == buf || errno) ? -1 : 0;
}

static int read_file_str(const char *path, char *buf, size_t cap)
{
    if (el_read_small(path, buf, cap) < 0) return -1;
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1])) buf[--n] = 0;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir that match prefix (malloc'd array of malloc'd strings). */
static int list_dir(const char *dir, const char *prefix, char ***out)
{
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d) return 0;
    int n = 0, cap = 0;
    char **v = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) break;
            v = nv;
        }
        v[n] = strdup(de->d_name);
        if (!v[n]) break;
        n++;
    }
    closedir(d);
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* ---- RAPL through powercap ----------------------------------------------- */

static int rapl_open(el_energy *e, bool dram, el_err *err)
{
    char dir[4200], path[4400], name[128], buf[64];
    el_mpath(dir, sizeof dir, e->root, "/sys/class/powercap");
    char **z;
    int nz = list_dir(dir, "intel-rapl:", &z);
    if (nz == 0) {
        free_list(z, nz);
        return el_errf(err, "%s: no intel-rapl:* zones (no RAPL powercap on this machine)", dir);
    }
    int rc = 0;
    snprintf(e->detail, sizeof e->detail, "powercap");
    char seen[MAX_CTR][64];
    for (int i = 0; i < nz && rc == 0; i++) {
        // intel-rapl:N is a package (or psys / dram on some servers);
        // intel-rapl:N:M are its sub-domains (core, uncore, dram)
        bool sub = strchr(strchr(z[i], ':') + 1, ':') != NULL;
        snprintf(path, sizeof path, "%s/%s/name", dir, z[i]);
        if (read_file_str(path, name, sizeof name) != 0) continue;
        bool pkg = !sub && strncmp(name, "package", 7) == 0;
        bool isdram = strcmp(name, "dram") == 0;
        if (!(pkg || (dram && isdram))) continue;
        bool dup = false;
        for (int k = 0; k < e->n_ctr; k++) dup |= strcmp(seen[k], name) == 0 && pkg;
        if (dup || e->n_ctr == MAX_CTR) continue;
        counter *c = &e->ctr[e->n_ctr];
        snprintf(path, sizeof path, "%s/%s/energy_uj", dir, z[i]);
        c->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (c->fd < 0 || read_ull(c->fd, &c->last) != 0) {
            rc = el_errf(err, "%s: cannot read: %s%s", path, strerror(errno),
                         errno == EACCES ? " (energy_uj is readable by root only)" : "");
            if (c->fd >= 0) close(c->fd);
            break;
        }
        snprintf(path, sizeof path, "%s/%s/max_energy_range_uj", dir, z[i]);
        c->max_range = el_read_small(path, buf, sizeof buf) > 0 ? strtod(buf, NULL) : 0;
        c->scale_j = 1e-6;
        c->acc_j = 0;
        c->perf = false;
        el_copy(seen[e->n_ctr], sizeof seen[0], name);
        e->n_ctr++;
        appendf(e->detail, sizeof e->detail, " %s(%s)", z[i], name);
    }
    free_list(z, nz);
    if (rc == 0 && e->n_ctr == 0)
        rc = el_errf(err, "%s: no package domain among the intel-rapl zones", dir);
    if (rc != 0) {
        ctr_close(e);
        return -1;
    }
    e->kind = EL_EN_RAPL;
    snprintf(e->name, sizeof e->name, "%s", dram ? "rapl+dram" : "rapl");
    snprintf(e->label, sizeof e->label, "measured");
    return 0;
}

/* ---- perf power/energy-pkg/ ----------------------------------------------- */

static int perf_open(el_energy *e, el_err *err)
{
    char dir[4200], path[4400], buf[256];
    el_mpath(dir, sizeof dir, e->root, "/sys/bus/event_source/devices/power");
    snprintf(path, sizeof path, "%s/type", dir);
    if (read_file_str(path, buf, sizeof buf) != 0)
        return el_errf(err, "%s: no power PMU (perf energy events unavailable)", path);
    int type = atoi(buf);
    snprintf(path, sizeof path, "%s/events/energy-pkg", dir);
    if (read_file_str(path, buf, sizeof buf) != 0)
        return el_errf(err, "%s: no energy-pkg event", path);
    const char *ev = strstr(buf, "event=");
    if (!ev) return el_errf(err, "%s: expected 'event=0x..', found '%s'", path, buf);
    unsigned long long config = strtoull(ev + 6, NULL, 0);
    snprintf(path, sizeof path, "%s/events/energy-pkg.scale", dir);
    double scale = read_file_str(path, buf, sizeof buf) == 0 ? strtod(buf, NULL) : 0;
    if (!(scale > 0)) return el_errf(err, "%s: missing or invalid scale", path);
    // one counter per package: the PMU's cpumask lists one cpu per package
    snprintf(path, sizeof path, "%s/cpumask", dir);
    if (read_file_str(path, buf, sizeof buf) != 0) snprintf(buf, sizeof buf, "0");
    snprintf(e->detail, sizeof e->detail, "perf power/energy-pkg/ (type %d, config 0x%llx, scale %g J) cpus",
             type, config, scale);
    for (char *p = buf; *p && e->n_ctr < MAX_CTR;) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p) break;
        if (*end == '-') b = strtol(end + 1, &end, 10);
        for (long cpu = a; cpu <= b && e->n_ctr < MAX_CTR; cpu++) {
            struct perf_event_attr at;
            memset(&at, 0, sizeof at);
            at.type = (unsigned)type;
            at.size = sizeof at;
            at.config = config;
            int fd = (int)syscall(SYS_perf_event_open, &at, -1, (int)cpu, -1, PERF_FLAG_FD_CLOEXEC);
            if (fd < 0) {
                int en = errno;
                char par[32] = "?";
                el_read_small("/proc/sys/kernel/perf_event_paranoid", par, sizeof par);
                par[strcspn(par, "\n")] = 0;
                ctr_close(e);
                return el_errf(err, "perf_event_open(power/energy-pkg/, cpu %ld): %s (perf_event_paranoid=%s)",
                               cpu, strerror(en), par);
            }
            counter *c = &e->ctr[e->n_ctr++];
            c->fd = fd;
            c->perf = true;
            c->scale_j = scale;
            c->max_range = 0;
            c->acc_j = 0;
            uint64_t v = 0;
            if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) v = 0;
            c->last = v;
            appendf(e->detail, sizeof e->detail, " %ld", cpu);
        }
        p = end;
        while (*p == ',') p++;
    }
    if (e->n_ctr == 0) return el_errf(err, "%s: empty cpumask", path);
    e->kind = EL_EN_PERF;
    snprintf(e->name, sizeof e->name, "perf");
    snprintf(e->label, sizeof e->label, "measured");
    return 0;
}

/* ---- hwmon ---------------------------------------------------------------- */

static bool hwmon_denied(const char *name)
{
    // GPU and disk sensors do not measure the CPU or the system
    static const char *deny[] = {"amdgpu", "nouveau", "radeon", "i915", "xe", "nvme", NULL};
    for (int i = 0; deny[i]; i++)
        if (strcmp(name, deny[i]) == 0) return true;
    return false;
}

/* Open the energy (preferred) or power inputs of one hwmon device. */
static int hwmon_try(el_energy *e, const char *dev, const char *devname)
{
    char **f;
    int nf = list_dir(dev, "", &f);
    char path[4800], label[128], base[256];
    bool socket_labels = false;
    for (int i = 0; i < nf; i++) {
        if (strncmp(f[i], "energy", 6) == 0 && strstr(f[i], "_label")) {
            snprintf(path, sizeof path, "%s/%s", dev, f[i]);
            if (read_file_str(path, label, sizeof label) == 0 && strncmp(label, "Esocket", 7) == 0)
                socket_labels = true;
        }
    }
    for (int pass = 0; pass < 2 && e->n_ctr == 0 && e->n_pw == 0; pass++) {
        const char *pre = pass == 0 ? "energy" : "power";
        for (int i = 0; i < nf; i++) {
            size_t pl = strlen(pre);
            if (strncmp(f[i], pre, pl) != 0 || !isdigit((unsigned char)f[i][pl])) continue;
            const char *suf = f[i] + pl + strspn(f[i] + pl, "0123456789");
            if (strcmp(suf, "_input") != 0 && !(pass == 1 && strcmp(suf, "_average") == 0)) continue;
            if (pass == 1 && strcmp(suf, "_average") == 0) {
                // prefer _input when the same sensor has both
                char alt[300];
                el_copy(base, sizeof base, f[i]);
                base[suf - f[i] < (long)sizeof base ? suf - f[i] : (long)sizeof base - 1] = 0;
                snprintf(alt, sizeof alt, "%s_input", base);
                bool has_input = false;
                for (int k = 0; k < nf; k++) has_input |= strcmp(f[k], alt) == 0;
                if (has_input) continue;
            }
            el_copy(base, sizeof base, f[i]);
            base[suf - f[i] < (long)sizeof base ? suf - f[i] : (long)sizeof base - 1] = 0;
            if (socket_labels && pass == 0) {
                snprintf(path, sizeof path, "%s/%s_label", dev, base);
                if (read_file_str(path, label, sizeof label) != 0 || strncmp(label, "Esocket", 7) != 0)
                    continue;
            }
            snprintf(path, sizeof path, "%s/%s", dev, f[i]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            unsigned long long v;
            if (fd < 0 || read_ull(fd, &v) != 0) {
                if (fd >= 0) close(fd);
                continue;
            }
            if (pass == 0 && e->n_ctr < MAX_CTR) {
                counter *c = &e->ctr[e->n_ctr++];
                c->fd = fd;
                c->perf = false;
                c->scale_j = 1e-6;  // microjoules
                c->max_range = 0;
                c->last = v;
                c->acc_j = 0;
            } else if (pass == 1 && e->n_pw < MAX_CTR) {
                e->pw_fd[e->n_pw++] = fd;
            } else {
                close(fd);
                continue;
            }
            appendf(e->detail, sizeof e->detail, " %s", f[i]);
        }
    }
    free_list(f, nf);
    (void)devname;
    return (e->n_ctr || e->n_pw) ? 0 : -1;
}

static int hwmon_open(el_energy *e, const char *want, bool auto_mode, el_err *err)
{
    char dir[4200], dev[4400], path[4500], name[128];
    el_mpath(dir, sizeof dir, e->root, "/sys/class/hwmon");
    char **h;
    int nh = list_dir(dir, "hwmon", &h);
    int rc = -1;
    for (int i = 0; i < nh && rc != 0; i++) {
        snprintf(dev, sizeof dev, "%s/%s", dir, h[i]);
        snprintf(path, sizeof path, "%s/name", dev);
        if (read_file_str(path, name, sizeof name) != 0) snprintf(name, sizeof name, "?");
        if (want && strcmp(want, name) != 0) continue;
        if (auto_mode && hwmon_denied(name)) continue;
        snprintf(e->detail, sizeof e->detail, "hwmon %s (%s):", h[i], name);
        if (hwmon_try(e, dev, name) == 0) rc = 0;
    }
    free_list(h, nh);
    if (rc != 0) {
        e->detail[0] = 0;
        if (want) return el_errf(err, "%s: no hwmon device named '%s' with energy or power inputs", dir, want);
        return el_errf(err, "%s: no hwmon device with energy*_input or power*_input", dir);
    }
    e->pw_scale = 1e-6;  // microwatts
    e->kind = EL_EN_HWMON;
    snprintf(e->name, sizeof e->name, "hwmon");
    snprintf(e->label, sizeof e->label, "measured");
    return 0;
}

/* ---- Raspberry Pi 5 PMIC -------------------------------------------------- */

int el_parse_pmic(const char *text, double *watts, int *n_rails)
{
    // lines like "  VDD_CORE_A current(7)=0.81022400A" and
    // "  VDD_CORE_V volt(15)=0.72081200V" (older: "VDD_CORE_A=0.81A");
    // rail = name without its _A/_V suffix; power = sum of V*I per rail
    enum { MAXR = 64 };
    char names[MAXR][48];
    double v[MAXR], a[MAXR];
    bool hv[MAXR], ha[MAXR];
    int nr = 0;
    const char *p = text;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[256];
        if (len >= sizeof line) len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = 0;
        p = eol ? eol + 1 : NULL;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        char *eq = strchr(s, '=');
        if (!eq) continue;
        size_t nl = strcspn(s, " \t=");
        if (nl < 3 || nl >= 48) continue;
        char kind = s[nl - 1];
        if (s[nl - 2] != '_' || (kind != 'A' && kind != 'V')) continue;
        char *end;
        double val = strtod(eq + 1, &end);
        if (end == eq + 1 || !isfinite(val)) continue;
        int r = 0;
        for (; r < nr; r++)
            if (strlen(names[r]) == nl - 2 && strncmp(names[r], s, nl - 2) == 0) break;
        if (r == nr) {
            if (nr == MAXR) continue;
            memcpy(names[nr], s, nl - 2);
            names[nr][nl - 2] = 0;
            hv[nr] = ha[nr] = false;
            nr++;
        }
        if (kind == 'A') {
            a[r] = val;
            ha[r] = true;
        } else {
            v[r] = val;
            hv[r] = true;
        }
    }
    double w = 0;
    int n = 0;
    for (int r = 0; r < nr; r++)
        if (hv[r] && ha[r]) {
            w += v[r] * a[r];
            n++;
        }
    if (n_rails) *n_rails = n;
    if (!n) return -1;
    *watts = w;
    return 0;
}

/* Run `vcgencmd pmic_read_adc` and sum its rails. */
static int pmic_sample(el_energy *e, double *watts, el_err *err)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) return el_errf(err, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {e->pmic_cmd, "pmic_read_adc", NULL};
    pid_t pid;
    int rc = strchr(e->pmic_cmd, '/') ? posix_spawn(&pid, e->pmic_cmd, &fa, NULL, argv, environ)
                                      : posix_spawnp(&pid, e->pmic_cmd, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return el_errf(err, "%s: cannot run: %s", e->pmic_cmd, strerror(rc));
    }
    char buf[8192];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(pfd[0], buf + n, sizeof buf - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n + 1 >= sizeof buf) break;
    }
    buf[n] = 0;
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    int nr;
    if (el_parse_pmic(buf, watts, &nr) != 0)
        return el_errf(err, "%s pmic_read_adc: no rail with both _V and _A readings in its output",
                       e->pmic_cmd);
    if (e->pmic_wall) *watts = 1.1451 * *watts + 0.5879;
    return 0;
}

static bool is_pi5(const char *root)
{
    char path[4200], buf[256];
    el_mpath(path, sizeof path, root, "/proc/device-tree/model");
    return el_read_small(path, buf, sizeof buf) > 0 && strstr(buf, "Raspberry Pi 5") != NULL;
}

static int pmic_open(el_energy *e, bool wall, double hz, el_err *err)
{
    if (!is_pi5(e->root)) {
        char path[4200];
        el_mpath(path, sizeof path, e->root, "/proc/device-tree/model");
        return el_errf(err, "%s: not a Raspberry Pi 5 (the PMIC ADC exists on the Pi 5 only)", path);
    }
    if (strcmp(e->root, "/") == 0 || !*e->root) snprintf(e->pmic_cmd, sizeof e->pmic_cmd, "vcgencmd");
    else el_mpath(e->pmic_cmd, sizeof e->pmic_cmd, e->root, "/usr/bin/vcgencmd");
    e->pmic_wall = wall;
    e->pmic_period = hz > 0 ? 1.0 / hz : 0.5;
    double w;
    if (pmic_sample(e, &w, err) != 0) return -1;
    e->kind = EL_EN_PMIC;
    snprintf(e->name, sizeof e->name, "%s", wall ? "pmic:wall" : "pmic");
    // the rails are measured; the wall correction is a fitted estimate
    snprintf(e->label, sizeof e->label, "%s", wall ? "estimated" : "measured");
    snprintf(e->detail, sizeof e->detail,
             "vcgencmd pmic_read_adc: sum of V*I over the PMIC rails, read at most %.3g Hz%s", 1.0 / e->pmic_period,
             wall ? "; wall estimate 1.1451*P + 0.5879 W (community fit against a USB-C meter, see docs/profile-json.md)"
                  : " (board rails only: excludes USB peripherals and PMIC losses)");
    return 0;
}

/* ---- power profiles (the model) ------------------------------------------- */

int el_power_profile_get(const char *spec, el_power_profile *out, el_err *err)
{
    memset(out, 0, sizeof *out);
    if (strcmp(spec, "rpi5") == 0) {
        snprintf(out->name, sizeof out->name, "rpi5");
        out->p_idle_w = 3.0;
        out->p_max_w = 7.0;
        snprintf(out->source, sizeof out->source,
                 "Raspberry Pi 5 at the USB-C input: idle ~3 W (u-labs.de measurement), all four cores "
                 "busy ~7 W (reviewers' stress-ng figures, 6-8 W); estimated, see docs/profile-json.md");
        return 0;
    }
    if (strncmp(spec, "x86", 3) == 0 && (spec[3] == 0 || spec[3] == ':')) {
        double tdp = 15, idle = NAN;
        const char *p = spec[3] ? spec + 4 : "";
        while (*p) {
            char key[16];
            size_t kl = strcspn(p, "=,");
            if (kl >= sizeof key || p[kl] != '=')
                return el_errf(err, "model:%s: expected TDP=W or idle=W, found '%s'", spec, p);
            memcpy(key, p, kl);
            key[kl] = 0;
            char *end;
            double v = strtod(p + kl + 1, &end);
            if (end == p + kl + 1 || !isfinite(v) || v < 0 || v > 10000 || (*end && *end != ','))
                return el_errf(err, "model:%s: '%s' needs a number of watts in [0, 10000]", spec, key);
            if (strcasecmp(key, "tdp") == 0) tdp = v;
            else if (strcasecmp(key, "idle") == 0) idle = v;
            else return el_errf(err, "model:%s: unknown key '%s' (expected TDP or idle)", spec, key);
            p = *end ? end + 1 : end;
        }
        if (isnan(idle)) idle = 0.15 * tdp;
        if (idle > tdp) return el_errf(err, "model:%s: idle %.3g W exceeds TDP %.3g W", spec, idle, tdp);
        snprintf(out->name, sizeof out->name, "x86");
        out->p_idle_w = idle;
        out->p_max_w = tdp;
        snprintf(out->source, sizeof out->source,
                 "generic x86 package from TDP=%.3g W: P_max = TDP (sustained all-core package power), "
                 "P_idle = %.3g W (%s); estimated, package only, not wall power", tdp, idle,
                 strstr(spec, "idle") ? "given" : "15% of TDP");
        return 0;
    }
    if (strncmp(spec, "idle=", 5) == 0) {
        double idle, max;
        int used = 0;
        if (sscanf(spec, "idle=%lf,max=%lf%n", &idle, &max, &used) != 2 || spec[used] ||
            !isfinite(idle) || !isfinite(max) || idle < 0 || max < idle || max > 10000)
            return el_errf(err, "model:%s: expected idle=W,max=W with 0 <= idle <= max", spec);
        snprintf(out->name, sizeof out->name, "custom");
        out->p_idle_w = idle;
        out->p_max_w = max;
        snprintf(out->source, sizeof out->source, "given on the command line");
        return 0;
    }
    // a JSON profile file
    size_t len;
    el_err e2;
    char *text = el_slurp(spec, &len, &e2);
    if (!text)
        return el_errf(err, "model:%s: not a known profile (rpi5, x86[:TDP=W], idle=W,max=W) and %s", spec,
                       e2.msg);
    int rc = el_power_profile_parse(text, len, spec, out, err);
    free(text);
    return rc;
}

static int model_open(el_energy *e, const char *spec, el_err *err)
{
    if (el_power_profile_get(spec, &e->prof, err) != 0) return -1;
    e->kind = EL_EN_MODEL;
    snprintf(e->name, sizeof e->name, "model:%.*s", (int)(sizeof e->name - 7), e->prof.name);
    snprintf(e->label, sizeof e->label, "estimated");
    snprintf(e->detail, sizeof e->detail,
             "P = %.3g W + (%.3g W - %.3g W) * u, u = system CPU utilisation; %s", e->prof.p_idle_w,
             e->prof.p_max_w, e->prof.p_idle_w, e->prof.source);
    return 0;
}

static const char *default_model(const char *root)
{
    if (is_pi5(root)) return "rpi5";
    return "x86";
}

/* ---- open / read ---------------------------------------------------------- */

el_energy *el_energy_open(const char *spec, const char *root, double pmic_hz, el_err *err)
{
    el_energy *e = el_calloc(1, sizeof *e, err);
    if (!e) return NULL;
    snprintf(e->root, sizeof e->root, "%s", root && *root ? root : "/");
    if (!spec) spec = "auto";
    int rc;
    if (strcmp(spec, "none") == 0) {
        e->kind = EL_EN_NONE;
        snprintf(e->name, sizeof e->name, "none");
        snprintf(e->label, sizeof e->label, "none");
        rc = 0;
    } else if (strcmp(spec, "rapl") == 0 || strcmp(spec, "rapl+dram") == 0) {
        rc = rapl_open(e, strcmp(spec, "rapl+dram") == 0, err);
    } else if (strcmp(spec, "perf") == 0) {
        rc = perf_open(e, err);
    } else if (strcmp(spec, "hwmon") == 0 || strncmp(spec, "hwmon:", 6) == 0) {
        rc = hwmon_open(e, spec[5] ? spec + 6 : NULL, false, err);
    } else if (strcmp(spec, "pmic") == 0 || strcmp(spec, "pmic:wall") == 0) {
        rc = pmic_open(e, spec[4] != 0, pmic_hz, err);
    } else if (strncmp(spec, "meter:", 6) == 0 && spec[6]) {
        e->kind = EL_EN_METER;
        snprintf(e->meter_path, sizeof e->meter_path, "%s", spec + 6);
        snprintf(e->name, sizeof e->name, "meter");
        snprintf(e->label, sizeof e->label, "measured");
        snprintf(e->detail, sizeof e->detail, "external meter log %.400s, power linear between readings",
                 e->meter_path);
        rc = access(e->meter_path, R_OK) == 0 ? 0
                                               : el_errf(err, "%s: cannot read meter log: %s", e->meter_path,
                                                         strerror(errno));
    } else if (strncmp(spec, "model:", 6) == 0 && spec[6]) {
        rc = model_open(e, spec + 6, err);
    } else if (strcmp(spec, "model") == 0) {
        rc = model_open(e, default_model(e->root), err);
    } else if (strcmp(spec, "auto") == 0) {
        el_err why;
        rc = -1;
        snprintf(e->auto_log, sizeof e->auto_log, "auto:");
        for (int k = 0; k < 4 && rc != 0; k++) {
            static const char *names[] = {"rapl", "perf", "hwmon", "pmic"};
            memset(e->detail, 0, sizeof e->detail);
            if (k == 0) rc = rapl_open(e, false, &why);
            else if (k == 1) rc = perf_open(e, &why);
            else if (k == 2) rc = hwmon_open(e, NULL, true, &why);
            else rc = pmic_open(e, false, pmic_hz, &why);
            if (rc != 0) appendf(e->auto_log, sizeof e->auto_log, " %s: %s;", names[k], why.msg);
        }
        if (rc != 0) {
            rc = model_open(e, default_model(e->root), err);
            appendf(e->auto_log, sizeof e->auto_log, " using the %s power model", e->name);
        } else {
            appendf(e->auto_log, sizeof e->auto_log, " using %s", e->name);
        }
    } else {
        rc = el_errf(err, "energy source '%s': expected auto, none, rapl, rapl+dram, perf, hwmon[:NAME], pmic, "
                          "pmic:wall, meter:FILE or model:PROFILE", spec);
    }
    if (rc != 0) {
        el_energy_close(e);
        return NULL;
    }
    return e;
}

static int counters_read(el_energy *e, double *joules, el_err *err)
{
    double sum = 0;
    for (int i = 0; i < e->n_ctr; i++) {
        counter *c = &e->ctr[i];
        unsigned long long v;
        if (c->perf) {
            uint64_t x;
            if (read(c->fd, &x, sizeof x) != (ssize_t)sizeof x) return el_errf(err, "perf energy counter: read failed");
            v = x;
        } else if (read_ull(c->fd, &v) != 0) {
            return el_errf(err, "%s energy counter: read failed", e->name);
        }
        double d;
        if (v >= c->last) d = (double)(v - c->last);
        else if (c->max_range > 0) d = c->max_range - (double)c->last + (double)v;  // wrapped once
        else d = (double)v;                                                        // reset
        c->acc_j += d * c->scale_j;
        c->last = v;
        sum += c->acc_j;
    }
    *joules = sum;
    return 0;
}

int el_energy_read(el_energy *e, double t, double util, double *joules, el_err *err)
{
    switch (e->kind) {
    case EL_EN_NONE:
    case EL_EN_METER:
        *joules = NAN;
        return 0;
    case EL_EN_RAPL:
    case EL_EN_PERF:
        return counters_read(e, joules, err);
    case EL_EN_HWMON:
        if (e->n_ctr) return counters_read(e, joules, err);
        /* fallthrough */
    case EL_EN_PMIC: {
        if (e->kind == EL_EN_PMIC && e->have_p && t - e->last_t < e->pmic_period * 0.999) {
            *joules = e->cum_j;  // held until the next (rate-limited) reading
            return 0;
        }
        double p = 0;
        if (e->kind == EL_EN_PMIC) {
            if (pmic_sample(e, &p, err) != 0) return -1;
        } else {
            for (int i = 0; i < e->n_pw; i++) {
                unsigned long long v;
                if (read_ull(e->pw_fd[i], &v) != 0) return el_errf(err, "hwmon power input: read failed");
                p += (double)v * e->pw_scale;
            }
        }
        if (e->have_p) e->cum_j += 0.5 * (e->last_p + p) * (t - e->last_t);
        e->have_p = true;
        e->last_p = p;
        e->last_t = t;
        *joules = e->cum_j;
        return 0;
    }
    case EL_EN_MODEL: {
        if (!(util >= 0)) util = 0;
        if (util > 1) util = 1;
        double p = e->prof.p_idle_w + (e->prof.p_max_w - e->prof.p_idle_w) * util;
        if (e->have_t) e->cum_j += p * (t - e->last_t);
        e->have_t = true;
        e->last_t = t;
        *joules = e->cum_j;
        return 0;
    }
    }
    *joules = NAN;
    return 0;
}
