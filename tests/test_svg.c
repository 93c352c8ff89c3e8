/* test_svg.c -- el_plot_svg: well-formed XML (checked here and, when it is
 * installed, by xmllint), the counts on the root element, escaping, axes,
 * pixel positions and the edge cases. Example plots are written to the test
 * tmp dir (svg_*.svg) for a human to look at. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/study.h"

/* ---- helpers ------------------------------------------------------------------ */

/* A small XML well-formedness check of what el_plot_svg emits: elements with
 * double-quoted attributes, text, the five entities (and &#...;), no comments,
 * no processing instructions. Balanced tags, one root <svg>. Returns NULL if
 * fine, else a static reason. */
static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':' || c == '.';
}

static const char *check_entity(const char **pp)
{
    const char *p = *pp;   /* at '&' */
    static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (int i = 0; i < 5; i++)
        if (strncmp(p, ents[i], strlen(ents[i])) == 0) {
            *pp = p + strlen(ents[i]);
            return NULL;
        }
    if (p[1] == '#') {
        const char *q = p + 2;
        while (*q && *q != ';' && q - p < 12) q++;
        if (*q == ';') {
            *pp = q + 1;
            return NULL;
        }
    }
    return "bad entity";
}

static const char *xml_check(const char *s, int *n_elements)
{
    enum { DEPTH = 64 };
    char stack[DEPTH][32];
    int depth = 0, roots = 0, elements = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            const char *why = check_entity(&p);
            if (why) return why;
            continue;
        }
        if (*p != '<') {
            if (depth == 0 && !(*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
                return "text outside the root";
            p++;
            continue;
        }
        p++;
        if (*p == '/') {
            p++;
            const char *n0 = p;
            while (is_name_char(*p)) p++;
            size_t len = (size_t)(p - n0);
            while (*p == ' ' || *p == '\n') p++;
            if (*p != '>') return "bad closing tag";
            p++;
            if (depth == 0) return "closing tag without an open one";
            depth--;
            if (strlen(stack[depth]) != len || strncmp(stack[depth], n0, len) != 0)
                return "mismatched closing tag";
            continue;
        }
        const char *n0 = p;
        while (is_name_char(*p)) p++;
        size_t len = (size_t)(p - n0);
        if (len == 0 || len >= 32) return "bad element name";
        if (depth == 0) roots++;
        elements++;
        if (depth == 0 && (len != 3 || strncmp(n0, "svg", 3) != 0)) return "root is not svg";
        /* attributes */
        char names[64][32];
        int n_attr = 0;
        for (;;) {
            int ws = 0;
            while (*p == ' ' || *p == '\n' || *p == '\t') p++, ws = 1;
            if (p[0] == '/' && p[1] == '>') {
                p += 2;
                break;
            }
            if (*p == '>') {
                p++;
                if (depth >= DEPTH) return "too deep";
                memcpy(stack[depth], n0, len);
                stack[depth][len] = 0;
                depth++;
                break;
            }
            if (!ws) return "attribute without preceding space";
            const char *a0 = p;
            while (is_name_char(*p)) p++;
            size_t alen = (size_t)(p - a0);
            if (alen == 0 || alen >= 32) return "bad attribute name";
            for (int k = 0; k < n_attr; k++)
                if (strlen(names[k]) == alen && strncmp(names[k], a0, alen) == 0)
                    return "duplicate attribute";
            if (n_attr < 64) {
                memcpy(names[n_attr], a0, alen);
                names[n_attr][alen] = 0;
                n_attr++;
            }
            if (*p++ != '=') return "attribute without =";
            if (*p++ != '"') return "attribute value not quoted";
            while (*p && *p != '"') {
                if (*p == '<') return "< in attribute";
                if (*p == '&') {
                    const char *why = check_entity(&p);
                    if (why) return why;
                } else {
                    p++;
                }
            }
            if (*p++ != '"') return "unterminated attribute";
        }
        if (depth == 0 && roots > 1) return "more than one root";
    }
    if (depth != 0) return "unclosed element";
    if (roots != 1) return "no root";
    if (n_elements) *n_elements = elements;
    return NULL;
}

static int has_xmllint(void)
{
    static int known = -1;
    if (known < 0) {
        known = tu_run("command -v xmllint >/dev/null 2>&1", NULL, NULL) == 0;
        if (!known) print_message("note: xmllint not installed (libxml2-utils): skipping its check\n");
    }
    return known;
}

/* Write svg to the tmp dir as name and run xmllint on it (if present). */
static void save_and_lint(const char *svg, const char *name)
{
    char *path = tu_tmp(name);
    assert_int_equal(tu_write_file(path, svg, strlen(svg)), 0);
    if (has_xmllint()) {
        char *cmd = tu_fmt("xmllint --noout '%s'", path), *out = NULL, *er = NULL;
        int rc = tu_run(cmd, &out, &er);
        if (rc != 0) print_message("xmllint %s: %s%s\n", name, out ? out : "", er ? er : "");
        assert_int_equal(rc, 0);
        free(cmd);
        free(out);
        free(er);
    }
    free(path);
}

static long root_attr(const char *svg, const char *name)
{
    char *key = tu_fmt(" %s=\"", name);
    const char *end = strchr(svg, '>');
    const char *q = strstr(svg, key);
    assert_non_null(q);
    assert_true(q < end);
    long v = strtol(q + strlen(key), NULL, 10);
    free(key);
    return v;
}

static int count_str(const char *s, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *q = strstr(s, needle); q; q = strstr(q + len, needle)) n++;
    return n;
}

/* Common checks on any output; returns it. */
static char *render_ok(const el_plot *p, const char *save_as)
{
    el_err err = {{0}};
    char *svg = el_plot_svg(p, &err);
    if (!svg) print_message("el_plot_svg: %s\n", err.msg);
    assert_non_null(svg);
    assert_true(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"el-plot\"", 54) == 0);
    const char *why = xml_check(svg, NULL);
    if (why) print_message("xml_check: %s\n", why);
    assert_null(why);
    /* no nan / inf anywhere (the text of the plot is chosen by the tests so
     * that these words do not occur in it) */
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "NaN"));
    assert_null(strstr(svg, "inf"));
    assert_null(strstr(svg, "\"-0\""));
    assert_null(strstr(svg, ">-0<"));
    assert_int_equal(count_str(svg, "://"), 1);   /* the namespace only: no external references */
    if (save_as) save_and_lint(svg, save_as);
    return svg;
}

static el_plot plot_init(void)
{
    el_plot p;
    memset(&p, 0, sizeof p);
    p.vline_x = p.vspan_lo = p.vspan_hi = NAN;
    return p;
}

typedef struct rectf {
    double x, y, w, h;
} rectf;

static rectf frame_of(const char *svg)
{
    rectf r;
    const char *q = strstr(svg, "class=\"el-frame\"");
    assert_non_null(q);
    assert_int_equal(sscanf(q, "class=\"el-frame\" x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &r.x,
                            &r.y, &r.w, &r.h),
                     4);
    return r;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_xml_checker(void **state)
{
    (void)state;
    /* the checker itself rejects what it should */
    assert_null(xml_check("<svg a=\"1\"><g><t>x &amp; y</t></g><r/></svg>\n", NULL));
    assert_non_null(xml_check("<svg><g></svg>", NULL));
    assert_non_null(xml_check("<svg><g></h></svg>", NULL));
    assert_non_null(xml_check("<svg>a & b</svg>", NULL));
    assert_non_null(xml_check("<svg a=\"<\"/>", NULL));
    assert_non_null(xml_check("<svg a=\"1\" a=\"2\"/>", NULL));
    assert_non_null(xml_check("<svg a=1/>", NULL));
    assert_non_null(xml_check("<svg/><svg/>", NULL));
    assert_non_null(xml_check("<svg>", NULL));
}

static void test_examples(void **state)
{
    (void)state;
    /* 1. scatter of a sweep with a fitted line and its band */
    enum { NS = 60, NF = 40 };
    double x[NS], y[NS], fx[NF], fy[NF], lo[NF], hi[NF], ex[6], ey[6], elo[6], ehi[6];
    for (int i = 0; i < NS; i++) {
        x[i] = 64 + (i / 3) * 200;
        y[i] = 0.8 + 0.0021 * x[i] + 0.15 * sin(i * 1.7);
    }
    for (int i = 0; i < NF; i++) {
        fx[i] = 64 + i * (3800.0 / (NF - 1));
        fy[i] = 0.8 + 0.0021 * fx[i];
        double w = 0.05 + 0.00002 * fabs(fx[i] - 2000);
        lo[i] = fy[i] - w;
        hi[i] = fy[i] + w;
    }
    for (int i = 0; i < 6; i++) {
        ex[i] = 300 + 600 * i;
        ey[i] = 0.5 + 0.0021 * ex[i];
        elo[i] = ey[i] - 0.2;
        ehi[i] = ey[i] + 0.25;
    }
    el_plot_series s1[] = {
        {.label = "95% band", .kind = EL_SERIES_BAND, .x = fx, .y_lo = lo, .y_hi = hi, .n = NF},
        {.label = "repeats", .kind = EL_SERIES_POINTS, .x = x, .y = y, .n = NS},
        {.label = "fit a + b·x", .kind = EL_SERIES_LINE, .x = fx, .y = fy, .n = NF},
        {.label = "compressed (mean ± CI)", .kind = EL_SERIES_POINTS, .x = ex, .y = ey, .y_lo = elo,
         .y_hi = ehi, .n = 6, .color = "#d62728"},
    };
    el_plot p = plot_init();
    p.title = "CPU cost vs prompt size";
    p.xlabel = "prompt tokens";
    p.ylabel = "CPU AUC (core·s)";
    p.series = s1;
    p.n_series = 4;
    char *svg = render_ok(&p, "svg_scatter_fit.svg");
    assert_int_equal(root_attr(svg, "data-series"), 4);
    assert_int_equal(root_attr(svg, "data-points"), NF + NS + NF + 6);
    assert_int_equal(root_attr(svg, "width"), 640);
    assert_int_equal(root_attr(svg, "height"), 400);
    assert_int_equal(count_str(svg, "class=\"el-legend-entry\""), 4);
    assert_int_equal(count_str(svg, "<polygon"), 1);
    assert_int_equal(count_str(svg, "fill-opacity=\"0.2\" stroke=\"none\""), 2);   /* band + swatch */
    assert_non_null(strstr(svg, ">1k<"));
    assert_non_null(strstr(svg, ">2k<"));
    assert_null(strstr(svg, "el-vline"));
    free(svg);

    /* 2. log-log knee with its marker */
    enum { NK = 30 };
    double kx[NK], ky[NK], mx[100], my[100];
    for (int i = 0; i < NK; i++) {
        kx[i] = 16 * pow(2, i / 3.0);
        double m = kx[i] < 600 ? 3.0 * pow(kx[i] / 600, 0.9) : 3.0;
        ky[i] = m * (1 + 0.05 * sin(i * 2.3));
    }
    for (int i = 0; i < 100; i++) {
        mx[i] = 16 * pow(1.08, i);
        my[i] = mx[i] < 600 ? 3.0 * pow(mx[i] / 600, 0.9) : 3.0;
    }
    el_plot_series s2[] = {
        {.label = "measured", .kind = EL_SERIES_POINTS, .x = kx, .y = ky, .n = NK},
        {.label = "knee law", .kind = EL_SERIES_LINE, .x = mx, .y = my, .n = 100, .dashed = true},
    };
    p = plot_init();
    p.title = "RAM AUC: knee";
    p.xlabel = "tokens";
    p.ylabel = "GiB·s";
    p.xlog = p.ylog = true;
    p.series = s2;
    p.n_series = 2;
    p.vline_x = 600;
    p.vspan_lo = 480;
    p.vspan_hi = 750;
    p.vline_label = "knee 600 [480, 750]";
    svg = render_ok(&p, "svg_knee_loglog.svg");
    assert_int_equal(root_attr(svg, "data-series"), 2);
    assert_int_equal(root_attr(svg, "data-points"), NK + 100);
    assert_non_null(strstr(svg, "class=\"el-vline\""));
    assert_non_null(strstr(svg, "class=\"el-vspan\""));
    assert_non_null(strstr(svg, ">knee 600 [480, 750]<"));
    assert_non_null(strstr(svg, "stroke-dasharray"));
    assert_non_null(strstr(svg, ">100<"));
    assert_non_null(strstr(svg, ">1k<"));
    free(svg);

    /* 3. sampler trace as a step line */
    enum { NT = 200 };
    double tx[NT], ty[NT], t2[NT];
    unsigned r = 12345;
    for (int i = 0; i < NT; i++) {
        tx[i] = i;
        r = r * 1103515245u + 12345u;
        ty[i] = 0.5 + 0.4 * sin(i / 15.0) + ((r >> 16) % 100) / 1000.0;
        t2[i] = i % 50 == 49 ? NAN : 0.2 + 0.001 * i;
    }
    el_plot_series s3[] = {
        {.label = "top-p mass", .kind = EL_SERIES_STEP, .x = tx, .y = ty, .n = NT},
        {.label = "temperature", .kind = EL_SERIES_STEP, .x = tx, .y = t2, .n = NT, .dashed = true},
    };
    p = plot_init();
    p.title = "sampler trace";
    p.xlabel = "step";
    p.ylabel = "value";
    p.series = s3;
    p.n_series = 2;
    svg = render_ok(&p, "svg_step_trace.svg");
    assert_int_equal(root_attr(svg, "data-series"), 2);
    assert_int_equal(root_attr(svg, "data-points"), NT + NT - 4);
    /* the NaNs break the second trace into 4 pieces (plus the legend's) */
    assert_int_equal(count_str(svg, "stroke-dasharray=\"6 4\" d=\"M"), 4 + 1);
    free(svg);
}

static void test_escaping(void **state)
{
    (void)state;
    double x[] = {1, 2}, y[] = {3, 4};
    el_plot_series s = {.label = "l<'&'>", .kind = EL_SERIES_LINE, .x = x, .y = y, .n = 2};
    el_plot p = plot_init();
    p.title = "a<b & \"c\"";
    p.xlabel = "x & 'y'";
    p.ylabel = "<script>alert(1)</script>";
    p.vline_x = 1.5;
    p.vline_label = "]]><!--";
    p.series = &s;
    p.n_series = 1;
    char *svg = render_ok(&p, "svg_escape.svg");
    assert_non_null(strstr(svg, "<title>a&lt;b &amp; &quot;c&quot;</title>"));
    assert_non_null(strstr(svg, ">a&lt;b &amp; &quot;c&quot;</text>"));
    assert_non_null(strstr(svg, "x &amp; &apos;y&apos;"));
    assert_non_null(strstr(svg, "&lt;script&gt;"));
    assert_non_null(strstr(svg, "l&lt;&apos;&amp;&apos;&gt;"));
    assert_non_null(strstr(svg, "]]&gt;&lt;!--"));
    assert_null(strstr(svg, "a<b"));
    assert_null(strstr(svg, "<script"));
    free(svg);

    /* control characters and broken UTF-8 become U+FFFD; valid UTF-8 stays */
    p.title = "bell\a esc\x1b bad\xff\xfe trunc\xe2\x82 ok\xe2\x82\xac surrogate\xed\xa0\x80 end";
    p.xlabel = "tab\tnewline\n";
    svg = render_ok(&p, "svg_escape_bytes.svg");
    assert_null(strchr(svg, '\a'));
    assert_null(strchr(svg, '\x1b'));
    assert_null(strchr(svg, '\xff'));
    assert_non_null(strstr(svg, "ok\xe2\x82\xac"));
    assert_non_null(strstr(svg, "bell\xEF\xBF\xBD"));
    free(svg);
}

static void test_log_axes_skip_nonpositive(void **state)
{
    (void)state;
    double x[] = {-5, 0, 1, 10, 100, 1000, NAN, INFINITY};
    double y[] = {1, 1, -1, 0, 10, 100, 5, 5};
    double lo[] = {1, 1, 1, 1, -3, 50, 1, 1}, hi[] = {2, 2, 2, 2, 20, 200, 2, 2};
    el_plot_series s[] = {
        {.label = "p", .kind = EL_SERIES_POINTS, .x = x, .y = y, .y_lo = lo, .y_hi = hi, .n = 8},
        {.label = "l", .kind = EL_SERIES_LINE, .x = x, .y = y, .n = 8},
    };
    el_plot p = plot_init();
    p.title = "log with negatives";
    p.xlog = p.ylog = true;
    p.series = s;
    p.n_series = 2;
    p.vline_x = -3;       /* not on a log axis: not drawn */
    p.vspan_lo = 0;
    p.vspan_hi = 10;
    char *svg = render_ok(&p, "svg_log_negative.svg");
    /* drawn: (100, 10) and (1000, 100) in each series */
    assert_int_equal(root_attr(svg, "data-points"), 4);
    assert_int_equal(root_attr(svg, "data-series"), 2);
    assert_null(strstr(svg, "el-vline"));
    assert_null(strstr(svg, "el-vspan"));
    assert_non_null(strstr(svg, ">100<"));
    assert_non_null(strstr(svg, ">1k<"));
    /* one of the error bars has a non-positive end: still one error-bar path */
    assert_int_equal(count_str(svg, "stroke-width=\"1.2\" d=\"M"), 1 + 1);   /* + legend swatch */
    free(svg);

    /* the same on linear axes: everything finite is drawn */
    p.xlog = p.ylog = false;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 12);
    assert_non_null(strstr(svg, "el-vspan"));
    free(svg);
}

static void test_log_ticks(void **state)
{
    (void)state;
    /* under two decades: 2 and 5 labelled */
    double x[] = {10, 20, 45}, y[] = {1, 2, 3};
    el_plot_series s = {.kind = EL_SERIES_POINTS, .x = x, .y = y, .n = 3};
    el_plot p = plot_init();
    p.xlog = true;
    p.series = &s;
    p.n_series = 1;
    char *svg = render_ok(&p, NULL);
    const char *xt = strstr(svg, "class=\"el-xticks\"");
    assert_non_null(xt);
    assert_non_null(strstr(xt, ">10<"));
    assert_non_null(strstr(xt, ">20<"));
    assert_null(strstr(svg, "class=\"el-legend\""));   /* no labels: no legend */
    free(svg);

    /* inside one decade without a decade tick: falls back to 1-2-5 ticks */
    double x2[] = {2.2, 3, 4, 7.7};
    s.x = x2;
    s.y = x2;
    s.n = 4;
    p.ylog = true;
    svg = render_ok(&p, NULL);
    xt = strstr(svg, "class=\"el-xticks\"");
    assert_true(count_str(xt, "<text") >= 2);
    free(svg);

    /* 24 decades: labels thinned out */
    double x3[] = {1e-12, 1, 1e12};
    s.x = x3;
    s.y = x3;
    s.n = 3;
    svg = render_ok(&p, "svg_log_wide.svg");
    xt = strstr(svg, "class=\"el-xticks\"");
    const char *yt = strstr(svg, "class=\"el-yticks\"");
    int nx = 0;
    for (const char *q = strstr(xt, "<text"); q && q < yt; q = strstr(q + 1, "<text")) nx++;
    assert_true(nx >= 3 && nx <= 8);
    assert_non_null(strstr(svg, ">1<"));
    assert_true(strstr(svg, ">1e-12<") || strstr(svg, ">1e-9<"));
    assert_int_equal(root_attr(svg, "data-points"), 3);
    free(svg);
}

static void test_linear_tick_labels(void **state)
{
    (void)state;
    double x[] = {0, 2e6}, y[] = {-0.3, 0.3};
    el_plot_series s = {.kind = EL_SERIES_LINE, .x = x, .y = y, .n = 2};
    el_plot p = plot_init();
    p.series = &s;
    p.n_series = 1;
    char *svg = render_ok(&p, NULL);
    assert_non_null(strstr(svg, ">1M<"));
    assert_non_null(strstr(svg, ">2M<"));
    assert_non_null(strstr(svg, ">0<"));
    assert_non_null(strstr(svg, ">-0.2<"));
    assert_non_null(strstr(svg, ">0.2<"));
    free(svg);

    /* tiny values */
    double x2[] = {1e-9, 5e-9}, y2[] = {3e-7, 4e-7};
    s.x = x2;
    s.y = y2;
    svg = render_ok(&p, NULL);
    assert_non_null(strstr(svg, "e-9<"));
    free(svg);

    /* a tiny relative range: labels precise enough to differ */
    double x3[] = {1, 1 + 1e-10}, y3[] = {1e12, 1e12 + 1};
    s.x = x3;
    s.y = y3;
    svg = render_ok(&p, "svg_tiny_range.svg");
    const char *xt = strstr(svg, "class=\"el-xticks\"");
    const char *yt = strstr(svg, "class=\"el-yticks\"");
    /* every x label distinct */
    char labels[32][48];
    int n = 0;
    for (const char *q = strstr(xt, "\">"); q && q < yt && n < 32; q = strstr(q + 1, "\">")) {
        const char *e = strchr(q + 2, '<');
        if (!e || e == q + 2 || q[2] == '\n') continue;
        size_t len = (size_t)(e - q - 2);
        if (len >= 48) continue;
        memcpy(labels[n], q + 2, len);
        labels[n][len] = 0;
        n++;
    }
    assert_true(n >= 2);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) assert_string_not_equal(labels[i], labels[j]);
    free(svg);
}

static void test_pixel_positions(void **state)
{
    (void)state;
    double x[11], y[11];
    for (int i = 0; i <= 10; i++) x[i] = i, y[i] = i;
    el_plot_series s = {.kind = EL_SERIES_POINTS, .x = x, .y = y, .n = 11};
    el_plot p = plot_init();
    p.width = 800;
    p.height = 500;
    p.title = "diag";
    p.series = &s;
    p.n_series = 1;
    char *svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "width"), 800);
    assert_non_null(strstr(svg, "viewBox=\"0 0 800 500\""));
    rectf f = frame_of(svg);
    assert_true(f.x > 0 && f.y > 0 && f.x + f.w <= 800 && f.y + f.h <= 500);
    double cx[11], cy[11];
    const char *q = strstr(svg, "class=\"el-series el-points\"");
    assert_non_null(q);
    for (int i = 0; i <= 10; i++) {
        q = strstr(q, "<circle cx=\"");
        assert_non_null(q);
        assert_int_equal(sscanf(q, "<circle cx=\"%lf\" cy=\"%lf\"", &cx[i], &cy[i]), 2);
        q++;
    }
    /* range [0,10] padded by 5% each side: [-0.5, 10.5] */
    double ex_max = f.x + f.w * (10.5 / 11), ex_min = f.x + f.w * (0.5 / 11);
    assert_true(fabs(cx[10] - ex_max) < 0.02);
    assert_true(fabs(cx[0] - ex_min) < 0.02);
    assert_true(fabs(cy[10] - (f.y + f.h * (0.5 / 11))) < 0.02);   /* y grows upwards */
    assert_true(fabs(cy[0] - (f.y + f.h * (10.5 / 11))) < 0.02);
    for (int i = 0; i <= 10; i++) {
        assert_true(cx[i] > f.x && cx[i] < f.x + f.w);
        assert_true(cy[i] > f.y && cy[i] < f.y + f.h);
        if (i) assert_true(cx[i] > cx[i - 1] && cy[i] < cy[i - 1]);
    }
    free(svg);

    /* log axes: equal spacing of decades */
    double lx[] = {1, 10, 100, 1000};
    s.x = lx;
    s.y = lx;
    s.n = 4;
    p.xlog = p.ylog = true;
    svg = render_ok(&p, NULL);
    q = strstr(svg, "class=\"el-series el-points\"");
    for (int i = 0; i < 4; i++) {
        q = strstr(q, "<circle cx=\"");
        assert_int_equal(sscanf(q, "<circle cx=\"%lf\" cy=\"%lf\"", &cx[i], &cy[i]), 2);
        q++;
    }
    assert_true(fabs((cx[1] - cx[0]) - (cx[3] - cx[2])) < 0.02);
    assert_true(fabs((cy[1] - cy[0]) - (cy[2] - cy[1])) < 0.02);
    free(svg);

    /* the marker's span is clipped to the plot area */
    s.x = x;
    s.y = y;
    s.n = 11;
    p.xlog = p.ylog = false;
    p.vline_x = 5;
    p.vspan_lo = -100;
    p.vspan_hi = 7;
    svg = render_ok(&p, NULL);
    f = frame_of(svg);
    double vx, vy, vw, vh;
    q = strstr(svg, "class=\"el-vspan\"");
    assert_non_null(q);
    assert_int_equal(sscanf(q, "class=\"el-vspan\" x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &vx,
                            &vy, &vw, &vh),
                     4);
    assert_true(fabs(vx - f.x) < 0.02);
    assert_true(fabs(vx + vw - (f.x + f.w * (7.5 / 11))) < 0.02);
    q = strstr(svg, "class=\"el-vline\"");
    assert_non_null(q);
    assert_int_equal(sscanf(q, "class=\"el-vline\">\n<line x1=\"%lf\"", &vx), 1);
    assert_true(fabs(vx - (f.x + f.w * 0.5)) < 0.02);
    free(svg);

    /* the legend avoids the data: a falling diagonal leaves top-right free */
    double yd[11];
    for (int i = 0; i <= 10; i++) yd[i] = 10 - i;
    el_plot_series ls = {.label = "falling", .kind = EL_SERIES_POINTS, .x = x, .y = yd, .n = 11};
    el_plot lp = plot_init();
    lp.series = &ls;
    lp.n_series = 1;
    svg = render_ok(&lp, NULL);
    f = frame_of(svg);
    double lgx, lgy;
    q = strstr(svg, "class=\"el-legend\">\n<rect x=\"");
    assert_non_null(q);
    assert_int_equal(sscanf(q, "class=\"el-legend\">\n<rect x=\"%lf\" y=\"%lf\"", &lgx, &lgy), 2);
    assert_true(lgx > f.x + f.w / 2);
    assert_true(lgy < f.y + f.h / 2);
    free(svg);
    ls.y = y;   /* rising: top-left is free */
    svg = render_ok(&lp, NULL);
    q = strstr(svg, "class=\"el-legend\">\n<rect x=\"");
    assert_int_equal(sscanf(q, "class=\"el-legend\">\n<rect x=\"%lf\" y=\"%lf\"", &lgx, &lgy), 2);
    assert_true(lgx < f.x + f.w / 2);
    assert_true(lgy < f.y + f.h / 2);
    free(svg);

    /* a marker outside the data range is not drawn */
    p.vline_x = 1e6;
    p.vspan_lo = 100;
    p.vspan_hi = 200;
    svg = render_ok(&p, NULL);
    assert_null(strstr(svg, "el-vline"));
    assert_null(strstr(svg, "el-vspan"));
    free(svg);
}

static void test_edge_cases(void **state)
{
    (void)state;
    el_plot p = plot_init();
    /* nothing at all; title NULL; width/height 0 */
    char *svg = render_ok(&p, "svg_empty.svg");
    assert_int_equal(root_attr(svg, "data-series"), 0);
    assert_int_equal(root_attr(svg, "data-points"), 0);
    assert_int_equal(root_attr(svg, "width"), 640);
    assert_int_equal(root_attr(svg, "height"), 400);
    assert_null(strstr(svg, "<title>"));
    free(svg);
    p.xlog = p.ylog = true;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 0);
    free(svg);
    p.xlog = p.ylog = false;

    /* series with n = 0 and NULL arrays; empty labels */
    el_plot_series e[] = {
        {.label = "", .kind = EL_SERIES_POINTS},
        {.label = NULL, .kind = EL_SERIES_LINE},
        {.label = "empty band", .kind = EL_SERIES_BAND},
        {.label = "empty step", .kind = EL_SERIES_STEP},
    };
    p.series = e;
    p.n_series = 4;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-series"), 0);
    assert_int_equal(root_attr(svg, "data-points"), 0);
    assert_int_equal(count_str(svg, "class=\"el-legend-entry\""), 2);
    free(svg);

    /* all NaN */
    double nx[5] = {NAN, NAN, NAN, INFINITY, -INFINITY}, ny[5] = {NAN, 1, NAN, 2, 3};
    el_plot_series an[] = {
        {.label = "missing pts", .kind = EL_SERIES_POINTS, .x = nx, .y = ny, .y_lo = ny, .y_hi = nx, .n = 5},
        {.label = "missing line", .kind = EL_SERIES_LINE, .x = nx, .y = ny, .n = 5},
        {.label = "missing band", .kind = EL_SERIES_BAND, .x = nx, .y_lo = ny, .y_hi = ny, .n = 5},
        {.label = "missing step", .kind = EL_SERIES_STEP, .x = ny, .y = nx, .n = 5},
    };
    p.series = an;
    p.n_series = 4;
    p.title = "all not-a-number";
    svg = render_ok(&p, "svg_all_nan.svg");
    assert_int_equal(root_attr(svg, "data-points"), 0);
    assert_int_equal(root_attr(svg, "data-series"), 0);
    free(svg);

    /* one point; all-equal values; lone points between breaks */
    double one[] = {42}, eqx[] = {3, 3, 3}, eqy[] = {7, 7, 7};
    double bx[] = {1, NAN, 3, 4, NAN, 6}, by[] = {1, 2, 3, 4, 5, 6}, bh[] = {7, 7, 7, 7, 7, 7};
    el_plot_series deg[] = {
        {.label = "one", .kind = EL_SERIES_POINTS, .x = one, .y = one, .n = 1},
        {.label = "eq", .kind = EL_SERIES_LINE, .x = eqx, .y = eqy, .n = 3},
    };
    p.series = deg;
    p.n_series = 1;
    p.title = NULL;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 1);
    assert_non_null(strstr(svg, ">42<"));
    free(svg);
    p.xlog = p.ylog = true;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 1);
    free(svg);
    p.xlog = p.ylog = false;
    p.series = deg + 1;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 3);
    free(svg);
    el_plot_series br[] = {
        {.kind = EL_SERIES_LINE, .x = bx, .y = by, .n = 6},
        {.kind = EL_SERIES_BAND, .x = bx, .y_lo = by, .y_hi = bh, .n = 6},
        {.kind = EL_SERIES_STEP, .x = bx, .y = by, .n = 6},
    };
    p.series = br;
    p.n_series = 3;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 12);
    assert_int_equal(count_str(svg, "<polyline"), 1);
    assert_int_equal(count_str(svg, "<polygon"), 1);
    assert_int_equal(count_str(svg, "r=\"2\""), 4);   /* the lone line and step points */
    free(svg);

    /* zero and all-zero data */
    double z[] = {0, 0};
    el_plot_series zs = {.kind = EL_SERIES_POINTS, .x = z, .y = z, .n = 2};
    p.series = &zs;
    p.n_series = 1;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 2);
    free(svg);

    /* extreme magnitudes */
    double hx[] = {-1.7e308, 1.7e308, 0}, hy[] = {1e-320, 4.9e-324, 1.7e308};
    el_plot_series hs = {.kind = EL_SERIES_LINE, .x = hx, .y = hy, .n = 3};
    p.series = &hs;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 3);
    free(svg);
    p.xlog = p.ylog = true;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 1);   /* only (1.7e308, 4.9e-324) */
    free(svg);
    double sx[] = {1e-12, 1e12}, sy[] = {1e-12, 1e12};
    hs.x = sx;
    hs.y = sy;
    hs.n = 2;
    p.xlog = p.ylog = false;
    svg = render_ok(&p, NULL);
    free(svg);
    double ux[] = {4.9e-324, 1e-323};
    hs.x = ux;
    hs.y = ux;
    svg = render_ok(&p, NULL);
    assert_int_equal(root_attr(svg, "data-points"), 2);
    free(svg);

    /* absurd sizes are clamped, small ones too */
    p.width = 1;
    p.height = -5;
    svg = render_ok(&p, NULL);
    assert_true(root_attr(svg, "width") >= 100);
    assert_int_equal(root_attr(svg, "height"), 400);
    free(svg);
    p.width = 1 << 30;
    svg = render_ok(&p, NULL);
    assert_true(root_attr(svg, "width") <= 20000);
    free(svg);
}

static void test_huge_n(void **state)
{
    (void)state;
#ifdef EL_SANITIZE
    enum { N = 10000 };   /* the sanitizer build checks the same code on less data */
#else
    enum { N = 100000 };
#endif
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *lo = malloc(N * sizeof *lo),
           *hi = malloc(N * sizeof *hi);
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(lo);
    assert_non_null(hi);
    for (int i = 0; i < N; i++) {
        x[i] = i;
        y[i] = sin(i * 0.001) * 1e6;
        lo[i] = y[i] - 1e5;
        hi[i] = y[i] + 1e5;
    }
    el_plot_series s[] = {
        {.label = "pts", .kind = EL_SERIES_POINTS, .x = x, .y = y, .y_lo = lo, .y_hi = hi, .n = N},
        {.label = "line", .kind = EL_SERIES_LINE, .x = x, .y = y, .n = N},
        {.label = "band", .kind = EL_SERIES_BAND, .x = x, .y_lo = lo, .y_hi = hi, .n = N},
        {.label = "step", .kind = EL_SERIES_STEP, .x = x, .y = y, .n = N},
    };
    el_plot p = plot_init();
    p.title = "huge";
    p.series = s;
    p.n_series = 4;
    char *svg = render_ok(&p, "svg_huge.svg");
    assert_int_equal(root_attr(svg, "data-points"), 4L * N);
    assert_int_equal(root_attr(svg, "data-series"), 4);
    assert_int_equal(count_str(svg, "<circle"), N + 1);   /* + legend swatch */
    free(svg);
    free(x);
    free(y);
    free(lo);
    free(hi);
}

static void test_palette_and_colors(void **state)
{
    (void)state;
    double x[] = {1, 2}, y[] = {1, 2};
    el_plot_series s[12];
    for (int i = 0; i < 12; i++)
        s[i] = (el_plot_series){.label = "s", .kind = EL_SERIES_LINE, .x = x, .y = y, .n = 2};
    s[1].color = "rgb(10, 20, 30)";
    el_plot p = plot_init();
    p.series = s;
    p.n_series = 12;
    char *svg = render_ok(&p, NULL);
    /* the palette skips series with their own colour: 11 palette uses, 10 colours */
    assert_int_equal(count_str(svg, "stroke=\"#1f77b4\""), 2 * 2);   /* line + swatch, twice */
    assert_int_equal(count_str(svg, "stroke=\"#ff7f0e\""), 2 * 1);
    assert_int_equal(count_str(svg, "stroke=\"rgb(10, 20, 30)\""), 2);
    /* deterministic */
    el_err err;
    char *again = el_plot_svg(&p, &err);
    assert_non_null(again);
    assert_string_equal(svg, again);
    free(svg);
    free(again);
}

static void test_errors(void **state)
{
    (void)state;
    el_err err = {{0}};
    assert_null(el_plot_svg(NULL, &err));
    assert_non_null(strstr(err.msg, "el_plot_svg"));
    assert_null(el_plot_svg(NULL, NULL));

    el_plot p = plot_init();
    p.n_series = 1;   /* series NULL */
    assert_null(el_plot_svg(&p, &err));
    p.n_series = -1;
    assert_null(el_plot_svg(&p, &err));

    double x[] = {1}, y[] = {1};
    el_plot_series s = {.kind = EL_SERIES_LINE, .x = x, .y = NULL, .n = 1};
    p.series = &s;
    p.n_series = 1;
    assert_null(el_plot_svg(&p, &err));
    assert_non_null(strstr(err.msg, "series 0"));
    s.y = y;
    s.kind = EL_SERIES_BAND;   /* y_lo/y_hi missing */
    assert_null(el_plot_svg(&p, &err));
    s.kind = 7;
    assert_null(el_plot_svg(&p, &err));
    assert_non_null(strstr(err.msg, "kind"));
    s.kind = EL_SERIES_POINTS;
    s.n = -3;
    assert_null(el_plot_svg(&p, &err));
    s.n = 1;
    s.color = "url(http://example.com/x.svg#p)";
    assert_null(el_plot_svg(&p, &err));
    assert_non_null(strstr(err.msg, "colour"));
    s.color = "red\" onload=\"x";
    assert_null(el_plot_svg(&p, &err));
    s.color = "steelblue";
    char *svg = el_plot_svg(&p, &err);
    assert_non_null(svg);
    free(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_checker),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_log_axes_skip_nonpositive),
        cmocka_unit_test(test_log_ticks),
        cmocka_unit_test(test_linear_tick_labels),
        cmocka_unit_test(test_pixel_positions),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_huge_n),
        cmocka_unit_test(test_palette_and_colors),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
