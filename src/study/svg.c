/* svg.c -- el_plot_svg: render an el_plot as one self-contained <svg> element.
 *
 * Layout: title on top, the plot area framed, y tick labels on the left (the
 * left margin grows with them), x tick labels and the x label below, the y
 * label rotated on the far left, the legend inside the plot area in the
 * corner that hides the fewest data positions (top-left when tied). Linear axes get "nice" 1-2-5 ticks over the data range padded by 5%;
 * log axes (padded by 5% of the decades spanned) get decade ticks, with 2 and 5
 * labelled when fewer than two decades are shown, and fall back to 1-2-5 ticks
 * when no two decade/minor ticks fall in the range.
 *
 * What counts as drawn: a position i of a series is drawn when x[i] and its y
 * values (y for POINTS/LINE/STEP, both y_lo and y_hi for BAND) are finite (and
 * > 0 on a log axis). data-points is the number of drawn positions over all
 * series, data-series the number of series with at least one. Lines, steps
 * and bands break at positions not drawn; a lone position between breaks is
 * drawn as a dot (a short vertical bar for a band). Error bar ends of POINTS
 * that are not finite (or <= 0 on a log y axis) are left out.
 *
 * The vertical marker and its span never widen the axes: they are clipped to
 * the plot area (a marker outside it is not drawn). Text from the caller is
 * XML-escaped; control characters and invalid UTF-8 become U+FFFD so the
 * output is always well-formed. Colours must look like CSS colours (names,
 * #hex, rgb()/hsl() forms): anything else is an error, so a caller string can
 * never smuggle in an external reference. Output is deterministic. */
#include "edgelm/study.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- growable string buffer ------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool fail;
} sbuf;

static bool sb_reserve(sbuf *b, size_t extra)
{
    if (b->fail) return false;
    if (extra > SIZE_MAX - b->n - 1) {
        b->fail = true;
        return false;
    }
    size_t need = b->n + extra + 1;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *q = realloc(b->p, cap);
    if (!q) {
        b->fail = true;
        return false;
    }
    b->p = q;
    b->cap = cap;
    return true;
}

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->fail) return;
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->fail = true;
        return;
    }
    if ((size_t)k < sizeof tmp) {
        sb_putn(b, tmp, (size_t)k);
        return;
    }
    if (!sb_reserve(b, (size_t)k)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* A pixel coordinate: two decimals, trailing zeros dropped, never "-0", never
 * nan/inf (the callers only pass finite values; this is the last guard). */
static void sb_num(sbuf *b, double v)
{
    if (!isfinite(v)) v = 0;
    if (v > 1e7) v = 1e7;
    if (v < -1e7) v = -1e7;
    char tmp[48];
    int k = snprintf(tmp, sizeof tmp, "%.2f", v);
    if (k <= 0 || (size_t)k >= sizeof tmp) {
        b->fail = true;
        return;
    }
    while (k > 0 && tmp[k - 1] == '0') k--;
    if (k > 0 && tmp[k - 1] == '.') k--;
    tmp[k] = 0;
    if (strcmp(tmp, "-0") == 0) {
        tmp[0] = '0';
        tmp[1] = 0;
        k = 1;
    }
    sb_putn(b, tmp, (size_t)k);
}

/* Decode one UTF-8 character that is legal in XML 1.0; returns its length, or
 * 0 when s does not start with one (invalid UTF-8 or an illegal character). */
static size_t utf8_xml_char(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    size_t len;
    unsigned cp, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;   /* also stops at the NUL */
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp == 0xFFFE || cp == 0xFFFF) return 0;
    return len;
}

/* Append text XML-escaped (usable in content and in "..." attributes). */
static void sb_esc(sbuf *b, const char *s)
{
    if (!s) return;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        switch (*u) {
        case '&': sb_puts(b, "&amp;"); u++; continue;
        case '<': sb_puts(b, "&lt;"); u++; continue;
        case '>': sb_puts(b, "&gt;"); u++; continue;
        case '"': sb_puts(b, "&quot;"); u++; continue;
        case '\'': sb_puts(b, "&apos;"); u++; continue;
        default: break;
        }
        size_t k = utf8_xml_char(u);
        if (k == 0) {
            sb_puts(b, "\xEF\xBF\xBD");   /* U+FFFD */
            u++;
        } else {
            sb_putn(b, (const char *)u, k);
            u += k;
        }
    }
}

/* Characters shown (roughly: UTF-8 lead bytes), for width estimates. */
static size_t text_chars(const char *s)
{
    size_t n = 0;
    if (!s) return 0;
    for (const unsigned char *u = (const unsigned char *)s; *u; u++)
        if ((*u & 0xC0) != 0x80) n++;
    return n;
}

static double text_width(const char *s, double font_px) { return 0.6 * font_px * (double)text_chars(s); }

static bool has_text(const char *s) { return s && s[0]; }

/* ---- tick labels ------------------------------------------------------------ */

/* Compact label of v with p significant digits: 0.25, 12, 1.5k, 2M, 1e-6. */
static void fmt_label(double v, int p, char *out, size_t cap)
{
    if (v == 0 || !isfinite(v)) {
        snprintf(out, cap, "0");
        return;
    }
    double a = fabs(v);
    if (a >= 1e15 || a < 1e-3) {
        char tmp[48];
        snprintf(tmp, sizeof tmp, "%.*e", p - 1 < 0 ? 0 : p - 1, v);
        /* mantissa: drop trailing zeros; exponent: drop '+' and leading zeros */
        char *e = strchr(tmp, 'e');
        if (!e) {
            snprintf(out, cap, "%s", tmp);
            return;
        }
        char mant[48];
        size_t m = (size_t)(e - tmp);
        memcpy(mant, tmp, m);
        mant[m] = 0;
        if (strchr(mant, '.')) {
            while (m > 0 && mant[m - 1] == '0') mant[--m] = 0;
            if (m > 0 && mant[m - 1] == '.') mant[--m] = 0;
        }
        int ex = atoi(e + 1);
        snprintf(out, cap, "%se%d", mant, ex);
        return;
    }
    static const char suffix[] = " kMGT";
    int si = 0;
    double s = v;
    while (fabs(s) >= 1000 && si < 4) {
        s /= 1000;
        si++;
    }
    int intdig = (int)floor(log10(fabs(s))) + 1;
    if (intdig < 1) intdig = 1;
    int q = p > intdig ? p : intdig;
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%.*g", q, s);
    if (strcmp(tmp, "-0") == 0) snprintf(tmp, sizeof tmp, "0");
    if (si)
        snprintf(out, cap, "%s%c", tmp, suffix[si]);
    else
        snprintf(out, cap, "%s", tmp);
}

static double parse_label(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end) {
    case 'k': v *= 1e3; break;
    case 'M': v *= 1e6; break;
    case 'G': v *= 1e9; break;
    case 'T': v *= 1e12; break;
    default: break;
    }
    return v;
}

/* ---- axes --------------------------------------------------------------------- */

#define MAX_TICKS 128
#define LABEL_CAP 64

typedef struct tick {
    double v;           /* data value */
    bool major;         /* gridline darker */
    bool labelled;
    char label[LABEL_CAP];
} tick;

typedef struct axis {
    bool log;
    double lo, hi;      /* range in axis space (log10 of the data on a log axis) */
    double p0, p1;      /* pixels at lo and hi */
    tick ticks[MAX_TICKS];
    int n_ticks;
} axis;

static bool ok_val(const axis *a, double v) { return isfinite(v) && (!a->log || v > 0); }

static double to_axis(const axis *a, double v) { return a->log ? log10(v) : v; }

/* Pixel of data value v (v must satisfy ok_val); halves avoid overflow of
 * hi - lo for ranges near DBL_MAX. */
static double map_px(const axis *a, double v)
{
    double t = to_axis(a, v);
    double den = a->hi / 2 - a->lo / 2;
    double f = den > 0 ? (t / 2 - a->lo / 2) / den : 0.5;
    double px = a->p0 + f * (a->p1 - a->p0);
    if (!isfinite(px)) px = a->p0;
    if (px > 1e6) px = 1e6;
    if (px < -1e6) px = -1e6;
    return px;
}

/* Set the axis range from the data extent [lo, hi] (ok values; have = false if
 * none), with padding and degenerate cases handled. */
static void axis_range(axis *a, bool have, double lo, double hi)
{
    if (a->log) {
        double l, h;
        if (!have) {
            l = 0, h = 1;
        } else {
            l = log10(lo), h = log10(hi);
            if (h - l < 1e-6) {
                double c = l / 2 + h / 2;
                l = c - 0.5, h = c + 0.5;
            }
            double pad = 0.05 * (h - l);
            l -= pad, h += pad;
        }
        a->lo = l, a->hi = h;
        return;
    }
    if (!have) {
        a->lo = 0, a->hi = 1;
        return;
    }
    double maxabs = fmax(fabs(lo), fabs(hi));
    double span = hi / 2 - lo / 2;   /* half the span: never overflows */
    if (!(span > 5e-13 * maxabs)) {
        double c = lo / 2 + hi / 2;
        double d = fabs(c) * 0.1;
        if (!(d > 0) || !isfinite(d)) d = 1;
        if (d < DBL_MIN) d = DBL_MIN * 1e3;
        lo = c - d, hi = c + d;
        span = d;
    }
    double pad = 0.1 * span;         /* 5% of the full span */
    double l = lo - pad, h = hi + pad;
    if (!isfinite(l)) l = -DBL_MAX;
    if (!isfinite(h)) h = DBL_MAX;
    a->lo = l, a->hi = h;
}

static double nice_step(double raw)
{
    if (!(raw > 0) || !isfinite(raw)) return 0;
    double mag = pow(10, floor(log10(raw)));
    if (!(mag > 0) || !isfinite(mag)) return 0;
    double f = raw / mag;
    double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    double s = m * mag;
    return isfinite(s) ? s : 0;
}

/* 1-2-5 ticks over the data values [vlo, vhi], about `target` of them. */
static void linear_ticks(axis *a, double vlo, double vhi, int target)
{
    a->n_ticks = 0;
    if (target < 2) target = 2;
    double span = vhi / 2 - vlo / 2;   /* half */
    double step = nice_step(2 * (span / target));
    if (!(step > 0) && span > 0) step = nice_step(span / target) * 2;
    if (!(step > 0)) return;
    double i0 = ceil(vlo / step), i1 = floor(vhi / step);
    if (!isfinite(i0) || !isfinite(i1) || i1 < i0 || i1 - i0 > MAX_TICKS - 1) return;
    for (double i = i0; i <= i1 && a->n_ticks < MAX_TICKS; i++) {
        double v = i * step;
        if (fabs(v) < 1e-9 * step) v = 0;
        if (a->log && !(v > 0)) continue;
        tick *t = &a->ticks[a->n_ticks++];
        t->v = v;
        t->major = true;
        t->labelled = true;
    }
    /* fewest significant digits that give every label its value back */
    for (int p = 1; p <= 17; p++) {
        bool good = true;
        for (int k = 0; k < a->n_ticks; k++) {
            tick *t = &a->ticks[k];
            fmt_label(t->v, p, t->label, sizeof t->label);
            double back = parse_label(t->label);
            if (!(fabs(back - t->v) <= 1e-3 * step)) good = false;
        }
        if (good) break;
    }
}

static void log_ticks(axis *a, int target)
{
    a->n_ticks = 0;
    double l = a->lo, h = a->hi;
    double d0 = ceil(l - 1e-9), d1 = floor(h + 1e-9);
    double decades = h - l;
    int n_labelled = 0;
    if (target < 2) target = 2;
    if (d1 >= d0 && d1 - d0 < 4000) {
        double nd = d1 - d0 + 1;
        int stride = 1;
        while (nd / stride > target + 1) stride++;
        bool sparse = nd > 60;                /* only the labelled decades */
        bool minors = decades <= 6;
        bool minor_labels = decades < 2;
        for (double d = d0 - 1; d <= d1 && a->n_ticks < MAX_TICKS; d++) {
            long long di = (long long)d;
            bool on_stride = ((di % stride) + stride) % stride == 0;
            if (sparse && !on_stride) continue;
            for (int m = 1; m <= 9 && a->n_ticks < MAX_TICKS; m++) {
                if (m > 1 && !minors) break;
                double lv = d + log10((double)m);
                if (lv < l - 1e-12 || lv > h + 1e-12) continue;
                double v = m * pow(10, d);
                if (!(v > 0) || !isfinite(v)) continue;
                tick *t = &a->ticks[a->n_ticks++];
                t->v = v;
                t->major = m == 1;
                t->labelled = m == 1 ? on_stride : (minor_labels && (m == 2 || m == 5));
                if (t->labelled) n_labelled++;
                fmt_label(t->v, 1, t->label, sizeof t->label);
            }
        }
    }
    if (n_labelled < 2) linear_ticks(a, pow(10, l), pow(10, h), target);
}

/* ---- the plot ------------------------------------------------------------------ */

static const char *const palette[10] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

static bool color_ok(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '#' || ch == '(' || ch == ')' || ch == ',' || ch == '.' || ch == '%' ||
                  ch == ' ' || ch == '-';
        if (!ok) return false;
    }
    for (size_t i = 0; i + 3 <= n; i++)
        if (strncasecmp(c + i, "url", 3) == 0) return false;
    return true;
}

/* Is position i of series s drawn? */
static bool pos_ok(const el_plot_series *s, int i, const axis *ax, const axis *ay)
{
    if (!ok_val(ax, s->x[i])) return false;
    if (s->kind == EL_SERIES_BAND) return ok_val(ay, s->y_lo[i]) && ok_val(ay, s->y_hi[i]);
    return ok_val(ay, s->y[i]);
}

typedef struct extent {
    bool have;
    double lo, hi;
} extent;

static void ext_add(extent *e, double v)
{
    if (!e->have) {
        e->have = true;
        e->lo = e->hi = v;
    } else {
        if (v < e->lo) e->lo = v;
        if (v > e->hi) e->hi = v;
    }
}

static const char *dash_attr(bool dashed) { return dashed ? " stroke-dasharray=\"6 4\"" : ""; }

static void put_pt(sbuf *b, double x, double y)
{
    sb_num(b, x);
    sb_putn(b, ",", 1);
    sb_num(b, y);
}

/* Draw series s; returns the positions drawn. */
static long draw_series(sbuf *b, const el_plot_series *s, int idx, const char *col,
                        const axis *ax, const axis *ay)
{
    static const char *const kind_name[] = {"points", "line", "band", "step"};
    long drawn = 0;
    sb_printf(b, "<g class=\"el-series el-%s\" data-index=\"%d\"", kind_name[s->kind], idx);
    if (has_text(s->label)) {
        sb_puts(b, " data-label=\"");
        sb_esc(b, s->label);
        sb_puts(b, "\"");
    }
    sb_puts(b, ">\n");
    if (s->kind == EL_SERIES_POINTS) {
        /* error bars first, under the circles */
        if (s->y_lo || s->y_hi) {
            bool open = false;
            for (int i = 0; i < s->n; i++) {
                if (!pos_ok(s, i, ax, ay)) continue;
                double lo = s->y_lo ? s->y_lo[i] : NAN, hi = s->y_hi ? s->y_hi[i] : NAN;
                bool lok = ok_val(ay, lo), hok = ok_val(ay, hi);
                if (!lok && !hok) continue;
                if (!open) {
                    sb_puts(b, "<path fill=\"none\" stroke=\"");
                    sb_esc(b, col);
                    sb_printf(b, "\" stroke-width=\"1.2\"%s d=\"", dash_attr(s->dashed));
                    open = true;
                }
                double px = map_px(ax, s->x[i]);
                double y1 = map_px(ay, lok ? lo : s->y[i]), y2 = map_px(ay, hok ? hi : s->y[i]);
                sb_puts(b, "M");
                put_pt(b, px, y1);
                sb_puts(b, "V");
                sb_num(b, y2);
                sb_puts(b, "M");
                put_pt(b, px - 3, y1);
                sb_puts(b, "h6M");
                put_pt(b, px - 3, y2);
                sb_puts(b, "h6");
            }
            if (open) sb_puts(b, "\"/>\n");
        }
        sb_puts(b, "<g fill=\"");
        sb_esc(b, col);
        sb_puts(b, "\" fill-opacity=\"0.85\">\n");
        for (int i = 0; i < s->n; i++) {
            if (!pos_ok(s, i, ax, ay)) continue;
            sb_puts(b, "<circle cx=\"");
            sb_num(b, map_px(ax, s->x[i]));
            sb_puts(b, "\" cy=\"");
            sb_num(b, map_px(ay, s->y[i]));
            sb_puts(b, "\" r=\"3\"/>\n");
            drawn++;
        }
        sb_puts(b, "</g>\n");
    } else if (s->kind == EL_SERIES_BAND) {
        int i = 0;
        while (i < s->n) {
            if (!pos_ok(s, i, ax, ay)) {
                i++;
                continue;
            }
            int j = i;
            while (j < s->n && pos_ok(s, j, ax, ay)) j++;
            /* run [i, j) */
            if (j - i == 1) {
                double px = map_px(ax, s->x[i]);
                sb_puts(b, "<line x1=\"");
                sb_num(b, px);
                sb_puts(b, "\" x2=\"");
                sb_num(b, px);
                sb_puts(b, "\" y1=\"");
                sb_num(b, map_px(ay, s->y_lo[i]));
                sb_puts(b, "\" y2=\"");
                sb_num(b, map_px(ay, s->y_hi[i]));
                sb_puts(b, "\" stroke=\"");
                sb_esc(b, col);
                sb_puts(b, "\" stroke-opacity=\"0.4\" stroke-width=\"2\"/>\n");
            } else {
                sb_puts(b, "<polygon fill=\"");
                sb_esc(b, col);
                sb_puts(b, "\" fill-opacity=\"0.2\" stroke=\"none\" points=\"");
                for (int k = i; k < j; k++) {
                    if (k > i) sb_putn(b, " ", 1);
                    put_pt(b, map_px(ax, s->x[k]), map_px(ay, s->y_hi[k]));
                }
                for (int k = j - 1; k >= i; k--) {
                    sb_putn(b, " ", 1);
                    put_pt(b, map_px(ax, s->x[k]), map_px(ay, s->y_lo[k]));
                }
                sb_puts(b, "\"/>\n");
            }
            drawn += j - i;
            i = j;
        }
    } else {   /* LINE, STEP */
        int i = 0;
        while (i < s->n) {
            if (!pos_ok(s, i, ax, ay)) {
                i++;
                continue;
            }
            int j = i;
            while (j < s->n && pos_ok(s, j, ax, ay)) j++;
            if (j - i == 1) {
                sb_puts(b, "<circle cx=\"");
                sb_num(b, map_px(ax, s->x[i]));
                sb_puts(b, "\" cy=\"");
                sb_num(b, map_px(ay, s->y[i]));
                sb_puts(b, "\" r=\"2\" fill=\"");
                sb_esc(b, col);
                sb_puts(b, "\"/>\n");
            } else if (s->kind == EL_SERIES_LINE) {
                sb_puts(b, "<polyline fill=\"none\" stroke=\"");
                sb_esc(b, col);
                sb_printf(b, "\" stroke-width=\"1.8\" stroke-linejoin=\"round\"%s points=\"",
                          dash_attr(s->dashed));
                for (int k = i; k < j; k++) {
                    if (k > i) sb_putn(b, " ", 1);
                    put_pt(b, map_px(ax, s->x[k]), map_px(ay, s->y[k]));
                }
                sb_puts(b, "\"/>\n");
            } else {
                sb_puts(b, "<path fill=\"none\" stroke=\"");
                sb_esc(b, col);
                sb_printf(b, "\" stroke-width=\"1.5\"%s d=\"M", dash_attr(s->dashed));
                put_pt(b, map_px(ax, s->x[i]), map_px(ay, s->y[i]));
                for (int k = i + 1; k < j; k++) {
                    sb_puts(b, "H");
                    sb_num(b, map_px(ax, s->x[k]));
                    sb_puts(b, "V");
                    sb_num(b, map_px(ay, s->y[k]));
                }
                sb_puts(b, "\"/>\n");
            }
            drawn += j - i;
            i = j;
        }
    }
    sb_puts(b, "</g>\n");
    return drawn;
}

static void legend_swatch(sbuf *b, const el_plot_series *s, const char *col, double x, double y)
{
    /* swatch occupies [x, x+22] around baseline-centre y */
    switch (s->kind) {
    case EL_SERIES_POINTS:
        if (s->y_lo || s->y_hi) {
            sb_puts(b, "<path fill=\"none\" stroke=\"");
            sb_esc(b, col);
            sb_printf(b, "\" stroke-width=\"1.2\"%s d=\"M", dash_attr(s->dashed));
            put_pt(b, x + 11, y - 6);
            sb_puts(b, "V");
            sb_num(b, y + 6);
            sb_puts(b, "\"/>");
        }
        sb_puts(b, "<circle cx=\"");
        sb_num(b, x + 11);
        sb_puts(b, "\" cy=\"");
        sb_num(b, y);
        sb_puts(b, "\" r=\"3\" fill=\"");
        sb_esc(b, col);
        sb_puts(b, "\"/>");
        break;
    case EL_SERIES_BAND:
        sb_puts(b, "<rect x=\"");
        sb_num(b, x);
        sb_puts(b, "\" y=\"");
        sb_num(b, y - 5);
        sb_puts(b, "\" width=\"22\" height=\"10\" fill=\"");
        sb_esc(b, col);
        sb_puts(b, "\" fill-opacity=\"0.2\" stroke=\"none\"/>");
        break;
    case EL_SERIES_LINE:
        sb_puts(b, "<line x1=\"");
        sb_num(b, x);
        sb_puts(b, "\" y1=\"");
        sb_num(b, y);
        sb_puts(b, "\" x2=\"");
        sb_num(b, x + 22);
        sb_puts(b, "\" y2=\"");
        sb_num(b, y);
        sb_puts(b, "\" stroke=\"");
        sb_esc(b, col);
        sb_printf(b, "\" stroke-width=\"1.8\"%s/>", dash_attr(s->dashed));
        break;
    default:   /* STEP */
        sb_puts(b, "<path fill=\"none\" stroke=\"");
        sb_esc(b, col);
        sb_printf(b, "\" stroke-width=\"1.5\"%s d=\"M", dash_attr(s->dashed));
        put_pt(b, x, y + 4);
        sb_puts(b, "H");
        sb_num(b, x + 11);
        sb_puts(b, "V");
        sb_num(b, y - 4);
        sb_puts(b, "H");
        sb_num(b, x + 22);
        sb_puts(b, "\"/>");
        break;
    }
}

char *el_plot_svg(const el_plot *p, el_err *err)
{
    if (!p) {
        el_errf(err, "el_plot_svg: no plot");
        return NULL;
    }
    if (p->n_series < 0) {
        el_errf(err, "el_plot_svg: negative series count %d", p->n_series);
        return NULL;
    }
    if (p->n_series > 0 && !p->series) {
        el_errf(err, "el_plot_svg: %d series but no series array", p->n_series);
        return NULL;
    }
    for (int k = 0; k < p->n_series; k++) {
        const el_plot_series *s = &p->series[k];
        if (s->kind < EL_SERIES_POINTS || s->kind > EL_SERIES_STEP) {
            el_errf(err, "el_plot_svg: series %d: unknown kind %d", k, s->kind);
            return NULL;
        }
        if (s->n < 0) {
            el_errf(err, "el_plot_svg: series %d: negative point count %d", k, s->n);
            return NULL;
        }
        if (s->n > 0) {
            bool band = s->kind == EL_SERIES_BAND;
            if (!s->x || (band ? (!s->y_lo || !s->y_hi) : !s->y)) {
                el_errf(err, "el_plot_svg: series %d: %d points but %s is NULL", k, s->n,
                        !s->x ? "x" : band ? "y_lo or y_hi" : "y");
                return NULL;
            }
        }
        if (s->color && !color_ok(s->color)) {
            el_errf(err, "el_plot_svg: series %d: colour is not a plain CSS colour", k);
            return NULL;
        }
    }

    int W = p->width > 0 ? p->width : 640, H = p->height > 0 ? p->height : 400;
    if (W < 160) W = 160;
    if (W > 16384) W = 16384;
    if (H < 120) H = 120;
    if (H > 16384) H = 16384;

    axis ax, ay;
    memset(&ax, 0, sizeof ax);
    memset(&ay, 0, sizeof ay);
    ax.log = p->xlog;
    ay.log = p->ylog;

    /* data extent */
    extent ex = {0}, ey = {0};
    for (int k = 0; k < p->n_series; k++) {
        const el_plot_series *s = &p->series[k];
        for (int i = 0; i < s->n; i++) {
            if (!pos_ok(s, i, &ax, &ay)) continue;
            ext_add(&ex, s->x[i]);
            if (s->kind == EL_SERIES_BAND) {
                ext_add(&ey, s->y_lo[i]);
                ext_add(&ey, s->y_hi[i]);
                continue;
            }
            ext_add(&ey, s->y[i]);
            if (s->kind == EL_SERIES_POINTS) {
                if (s->y_lo && ok_val(&ay, s->y_lo[i])) ext_add(&ey, s->y_lo[i]);
                if (s->y_hi && ok_val(&ay, s->y_hi[i])) ext_add(&ey, s->y_hi[i]);
            }
        }
    }
    axis_range(&ax, ex.have, ex.lo, ex.hi);
    axis_range(&ay, ey.have, ey.lo, ey.hi);

    /* layout: y ticks depend on the height only; the left margin on them */
    const double fs_tick = 11, fs_label = 12, fs_title = 14, fs_legend = 11;
    double top = has_text(p->title) ? 34 : 14;
    double bottom = 24 + (has_text(p->xlabel) ? 20 : 0);
    double right = 24;
    double py0 = top, py1 = H - bottom;
    ay.p0 = py1, ay.p1 = py0;
    int ytarget = (int)((py1 - py0) / 45);
    if (ay.log)
        log_ticks(&ay, ytarget);
    else
        linear_ticks(&ay, ay.lo, ay.hi, ytarget);
    double ylw = 0;
    for (int k = 0; k < ay.n_ticks; k++)
        if (ay.ticks[k].labelled) ylw = fmax(ylw, text_width(ay.ticks[k].label, fs_tick));
    double left = 10 + (has_text(p->ylabel) ? 20 : 0) + ylw + 8;
    if (left > W / 2.0) left = W / 2.0;
    /* x ticks: fewer when their labels would crowd; the right margin grows so
     * the last label stays inside */
    double px0 = left, px1 = W - right;
    for (int round = 0; round < 2; round++) {
        ax.p0 = px0, ax.p1 = px1;
        for (int xtarget = (int)((px1 - px0) / 90);; xtarget--) {
            if (ax.log)
                log_ticks(&ax, xtarget);
            else
                linear_ticks(&ax, ax.lo, ax.hi, xtarget);
            double need = 0;
            for (int k = 0; k < ax.n_ticks; k++)
                if (ax.ticks[k].labelled) need += text_width(ax.ticks[k].label, fs_tick) * 1.05 + 24;
            if (need <= px1 - px0 || xtarget <= 2) break;
        }
        double over = 0;
        for (int k = 0; k < ax.n_ticks; k++)
            if (ax.ticks[k].labelled)
                over = fmax(over, map_px(&ax, ax.ticks[k].v) +
                                      text_width(ax.ticks[k].label, fs_tick) / 2 - (W - 4));
        if (!(over > 0.5) || px1 - over < px0 + 60) break;
        px1 -= over;
    }

    sbuf body = {0};
    sbuf *b = &body;

    /* gridlines */
    sb_puts(b, "<g class=\"el-grid\" stroke-width=\"1\">\n");
    for (int pass = 0; pass < 2; pass++) {   /* minor then major */
        for (int k = 0; k < ax.n_ticks; k++) {
            if (ax.ticks[k].major != (pass == 1)) continue;
            double x = map_px(&ax, ax.ticks[k].v);
            sb_puts(b, "<line x1=\"");
            sb_num(b, x);
            sb_puts(b, "\" x2=\"");
            sb_num(b, x);
            sb_puts(b, "\" y1=\"");
            sb_num(b, py0);
            sb_puts(b, "\" y2=\"");
            sb_num(b, py1);
            sb_printf(b, "\" stroke=\"%s\"/>\n", pass ? "#e0e0e0" : "#f0f0f0");
        }
        for (int k = 0; k < ay.n_ticks; k++) {
            if (ay.ticks[k].major != (pass == 1)) continue;
            double y = map_px(&ay, ay.ticks[k].v);
            sb_puts(b, "<line x1=\"");
            sb_num(b, px0);
            sb_puts(b, "\" x2=\"");
            sb_num(b, px1);
            sb_puts(b, "\" y1=\"");
            sb_num(b, y);
            sb_puts(b, "\" y2=\"");
            sb_num(b, y);
            sb_printf(b, "\" stroke=\"%s\"/>\n", pass ? "#e0e0e0" : "#f0f0f0");
        }
    }
    sb_puts(b, "</g>\n");

    /* the marker's span, under the data */
    double vsl = p->vspan_lo, vsh = p->vspan_hi;
    if (ok_val(&ax, vsl) && ok_val(&ax, vsh)) {
        double a = map_px(&ax, vsl), c = map_px(&ax, vsh);
        if (a > c) {
            double t = a;
            a = c;
            c = t;
        }
        if (a < px0) a = px0;
        if (c > px1) c = px1;
        if (c > a) {
            sb_puts(b, "<rect class=\"el-vspan\" x=\"");
            sb_num(b, a);
            sb_puts(b, "\" y=\"");
            sb_num(b, py0);
            sb_puts(b, "\" width=\"");
            sb_num(b, c - a);
            sb_puts(b, "\" height=\"");
            sb_num(b, py1 - py0);
            sb_puts(b, "\" fill=\"#888888\" fill-opacity=\"0.15\"/>\n");
        }
    }

    /* series: bands first so lines and points stay on top */
    int n_drawn_series = 0;
    long n_points = 0;
    int pal = 0;
    const char **cols = NULL;
    if (p->n_series > 0) {
        cols = malloc((size_t)p->n_series * sizeof *cols);
        if (!cols) {
            free(body.p);
            el_errf(err, "el_plot_svg: out of memory");
            return NULL;
        }
    }
    for (int k = 0; k < p->n_series; k++)
        cols[k] = p->series[k].color ? p->series[k].color : palette[pal++ % 10];
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < p->n_series; k++) {
            const el_plot_series *s = &p->series[k];
            if ((s->kind == EL_SERIES_BAND) != (pass == 0)) continue;
            long d = draw_series(b, s, k, cols[k], &ax, &ay);
            n_points += d;
            if (d > 0) n_drawn_series++;
        }
    }

    /* the marker */
    bool vline = false;
    double vx = 0;
    if (ok_val(&ax, p->vline_x)) {
        vx = map_px(&ax, p->vline_x);
        vline = vx >= px0 - 0.5 && vx <= px1 + 0.5;
    }
    if (vline) {
        sb_puts(b, "<g class=\"el-vline\">\n<line x1=\"");
        sb_num(b, vx);
        sb_puts(b, "\" x2=\"");
        sb_num(b, vx);
        sb_puts(b, "\" y1=\"");
        sb_num(b, py0);
        sb_puts(b, "\" y2=\"");
        sb_num(b, py1);
        sb_puts(b, "\" stroke=\"#444444\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\"/>\n");
        if (has_text(p->vline_label)) {
            bool right_half = vx > (px0 + px1) / 2;
            sb_puts(b, "<text x=\"");
            sb_num(b, right_half ? vx - 4 : vx + 4);
            sb_puts(b, "\" y=\"");
            sb_num(b, py1 - 6);
            sb_printf(b, "\" font-size=\"%g\" fill=\"#333333\" text-anchor=\"%s\">", fs_tick,
                      right_half ? "end" : "start");
            sb_esc(b, p->vline_label);
            sb_puts(b, "</text>\n");
        }
        sb_puts(b, "</g>\n");
    }

    /* frame, ticks, tick labels */
    sb_puts(b, "<rect class=\"el-frame\" x=\"");
    sb_num(b, px0);
    sb_puts(b, "\" y=\"");
    sb_num(b, py0);
    sb_puts(b, "\" width=\"");
    sb_num(b, px1 - px0);
    sb_puts(b, "\" height=\"");
    sb_num(b, py1 - py0);
    sb_puts(b, "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n");
    sb_printf(b, "<g class=\"el-xticks\" font-size=\"%g\" fill=\"#333333\" text-anchor=\"middle\">\n",
              fs_tick);
    for (int k = 0; k < ax.n_ticks; k++) {
        const tick *t = &ax.ticks[k];
        double x = map_px(&ax, t->v);
        sb_puts(b, "<line x1=\"");
        sb_num(b, x);
        sb_puts(b, "\" x2=\"");
        sb_num(b, x);
        sb_puts(b, "\" y1=\"");
        sb_num(b, py1);
        sb_puts(b, "\" y2=\"");
        sb_num(b, py1 + (t->major ? 5 : 3));
        sb_puts(b, "\" stroke=\"#333333\"/>\n");
        if (!t->labelled) continue;
        sb_puts(b, "<text x=\"");
        sb_num(b, x);
        sb_puts(b, "\" y=\"");
        sb_num(b, py1 + 17);
        sb_puts(b, "\">");
        sb_esc(b, t->label);
        sb_puts(b, "</text>\n");
    }
    sb_puts(b, "</g>\n");
    sb_printf(b, "<g class=\"el-yticks\" font-size=\"%g\" fill=\"#333333\" text-anchor=\"end\">\n",
              fs_tick);
    for (int k = 0; k < ay.n_ticks; k++) {
        const tick *t = &ay.ticks[k];
        double y = map_px(&ay, t->v);
        sb_puts(b, "<line x1=\"");
        sb_num(b, px0 - (t->major ? 5 : 3));
        sb_puts(b, "\" x2=\"");
        sb_num(b, px0);
        sb_puts(b, "\" y1=\"");
        sb_num(b, y);
        sb_puts(b, "\" y2=\"");
        sb_num(b, y);
        sb_puts(b, "\" stroke=\"#333333\"/>\n");
        if (!t->labelled) continue;
        sb_puts(b, "<text x=\"");
        sb_num(b, px0 - 7);
        sb_puts(b, "\" y=\"");
        sb_num(b, y + 4);
        sb_puts(b, "\">");
        sb_esc(b, t->label);
        sb_puts(b, "</text>\n");
    }
    sb_puts(b, "</g>\n");

    /* legend */
    int n_leg = 0;
    double leg_w = 0;
    for (int k = 0; k < p->n_series; k++)
        if (has_text(p->series[k].label)) {
            n_leg++;
            leg_w = fmax(leg_w, text_width(p->series[k].label, fs_legend));
        }
    if (n_leg > 0) {
        double row = 16;
        double bw = 8 + 22 + 6 + leg_w + 8, bh = 6 + n_leg * row;
        /* the corner of the plot area hiding the fewest data positions
         * (top-left, top-right, bottom-left, bottom-right; ties: first) */
        double lx = px0 + 8, ly = py0 + 8;
        long best = -1;
        for (int c = 0; c < 4; c++) {
            double cx = (c & 1) ? px1 - 8 - bw : px0 + 8, cy = (c & 2) ? py1 - 8 - bh : py0 + 8;
            long hidden = 0;
            for (int k = 0; k < p->n_series && (best < 0 || hidden < best); k++) {
                const el_plot_series *s = &p->series[k];
                for (int i = 0; i < s->n; i++) {
                    if (!pos_ok(s, i, &ax, &ay)) continue;
                    double x = map_px(&ax, s->x[i]);
                    if (x < cx - 4 || x > cx + bw + 4) continue;
                    double ys[2];
                    int ny = 0;
                    if (s->kind == EL_SERIES_BAND) {
                        ys[ny++] = map_px(&ay, s->y_lo[i]);
                        ys[ny++] = map_px(&ay, s->y_hi[i]);
                    } else {
                        ys[ny++] = map_px(&ay, s->y[i]);
                    }
                    for (int j = 0; j < ny; j++)
                        if (ys[j] >= cy - 4 && ys[j] <= cy + bh + 4) hidden++;
                }
            }
            if (best < 0 || hidden < best) {
                best = hidden;
                lx = cx, ly = cy;
            }
            if (best == 0) break;
        }
        sb_puts(b, "<g class=\"el-legend\">\n<rect x=\"");
        sb_num(b, lx);
        sb_puts(b, "\" y=\"");
        sb_num(b, ly);
        sb_puts(b, "\" width=\"");
        sb_num(b, bw);
        sb_puts(b, "\" height=\"");
        sb_num(b, bh);
        sb_puts(b, "\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n");
        int r = 0;
        for (int k = 0; k < p->n_series; k++) {
            const el_plot_series *s = &p->series[k];
            if (!has_text(s->label)) continue;
            double cy = ly + 3 + row * r + row / 2;
            sb_puts(b, "<g class=\"el-legend-entry\">");
            legend_swatch(b, s, cols[k], lx + 8, cy);
            sb_puts(b, "<text x=\"");
            sb_num(b, lx + 8 + 22 + 6);
            sb_puts(b, "\" y=\"");
            sb_num(b, cy + 4);
            sb_printf(b, "\" font-size=\"%g\" fill=\"#222222\">", fs_legend);
            sb_esc(b, s->label);
            sb_puts(b, "</text></g>\n");
            r++;
        }
        sb_puts(b, "</g>\n");
    }
    free(cols);

    /* title and axis labels */
    if (has_text(p->title)) {
        sb_puts(b, "<text class=\"el-title\" x=\"");
        sb_num(b, (px0 + px1) / 2);
        sb_printf(b, "\" y=\"22\" font-size=\"%g\" font-weight=\"bold\" fill=\"#111111\" "
                     "text-anchor=\"middle\">", fs_title);
        sb_esc(b, p->title);
        sb_puts(b, "</text>\n");
    }
    if (has_text(p->xlabel)) {
        sb_puts(b, "<text class=\"el-xlabel\" x=\"");
        sb_num(b, (px0 + px1) / 2);
        sb_puts(b, "\" y=\"");
        sb_num(b, H - 8);
        sb_printf(b, "\" font-size=\"%g\" fill=\"#111111\" text-anchor=\"middle\">", fs_label);
        sb_esc(b, p->xlabel);
        sb_puts(b, "</text>\n");
    }
    if (has_text(p->ylabel)) {
        double x = 22, y = (py0 + py1) / 2;
        sb_puts(b, "<text class=\"el-ylabel\" x=\"");
        sb_num(b, x);
        sb_puts(b, "\" y=\"");
        sb_num(b, y);
        sb_puts(b, "\" transform=\"rotate(-90 ");
        sb_num(b, x);
        sb_puts(b, " ");
        sb_num(b, y);
        sb_printf(b, ")\" font-size=\"%g\" fill=\"#111111\" text-anchor=\"middle\">", fs_label);
        sb_esc(b, p->ylabel);
        sb_puts(b, "</text>\n");
    }
    sb_puts(b, "</svg>\n");

    /* root element, now that the counts are known, then the body */
    sbuf out = {0};
    sb_printf(&out,
              "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"el-plot\" data-series=\"%d\" "
              "data-points=\"%ld\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
              "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
              n_drawn_series, n_points, W, H, W, H);
    if (has_text(p->title)) {
        sb_puts(&out, "<title>");
        sb_esc(&out, p->title);
        sb_puts(&out, "</title>\n");
    }
    sb_printf(&out, "<rect class=\"el-bg\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
              W, H);
    if (!body.fail) sb_putn(&out, body.p, body.n);
    bool fail = body.fail || out.fail;
    free(body.p);
    if (fail) {
        free(out.p);
        el_errf(err, "el_plot_svg: out of memory");
        return NULL;
    }
    return out.p;
}
