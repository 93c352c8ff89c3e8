/* test_study.c -- the study as a tool: run files (JSONL), `edgelm sweep`
 * (resident and reload) on the real stories260K model, `edgelm fit` and
 * `compare` on run files with known laws, and `edgelm report` rendered in
 * headless Chromium (screenshot checked pixel by pixel with libpng). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgelm/runfile.h"
#include "testutil.h"

/* ---- run files ------------------------------------------------------------- */

static void test_runfile_parse(void **state)
{
    (void)state;
    el_run r;
    el_err err;
    const char *ok = "{\"type\":\"header\",\"model\":{\"desc\":\"m\"},\"energy\":{\"label\":\"estimated\"}}\n"
                     "{\"type\":\"measurement\",\"id\":0,\"tokens\":16,\"cpu_auc_core_s\":1.5,\"energy_j\":null}\n"
                     "\n"
                     "{\"type\":\"measurement\",\"id\":1,\"tokens\":32,\"cpu_auc_core_s\":2.5}\n"
                     "{\"type\":\"energy\",\"id\":0,\"energy_j\":7.25}\n"
                     "{\"type\":\"future-kind\",\"x\":1}\n"
                     "{\"type\":\"end\",\"complete\":true}\n";
    assert_int_equal(el_run_parse(ok, strlen(ok), "ok.jsonl", &r, &err), 0);
    assert_int_equal(r.n_meas, 2);
    assert_true(r.complete);
    assert_false(r.dropped_tail);
    assert_string_equal(el_run_header_str(&r, "model", "desc"), "m");
    assert_string_equal(el_run_energy_label(&r), "estimated");
    double *x, *y;
    int n;
    assert_int_equal(el_run_series(&r, "tokens", "energy_j", &x, &y, &n, &err), 0);
    assert_int_equal(n, 1);  // the energy record filled measurement 0; 1 has none
    assert_true(x[0] == 16 && y[0] == 7.25);
    free(x), free(y);
    assert_int_equal(el_run_series(&r, "tokens", el_metric_name("cpu_auc"), &x, &y, &n, &err), 0);
    assert_int_equal(n, 2);
    free(x), free(y);
    assert_int_equal(el_run_series(&r, "tokens", "no_such_metric", &x, &y, &n, &err), -1);
    assert_non_null(strstr(err.msg, "no_such_metric"));
    el_run_free(&r);

    /* a partial last line (writer killed) is dropped, not an error; no end = incomplete */
    const char *killed = "{\"type\":\"header\"}\n{\"type\":\"measurement\",\"id\":0,\"tokens\":16}\n{\"type\":\"meas";
    assert_int_equal(el_run_parse(killed, strlen(killed), "k.jsonl", &r, &err), 0);
    assert_true(r.dropped_tail);
    assert_false(r.complete);
    assert_int_equal(r.n_meas, 1);
    el_run_free(&r);

    /* a malformed complete line is an error naming the line */
    const char *bad = "{\"type\":\"header\"}\n{\"type\":\"measurement\"}\nnot json\n{\"type\":\"end\"}\n";
    assert_int_equal(el_run_parse(bad, strlen(bad), "bad.jsonl", &r, &err), -1);
    assert_non_null(strstr(err.msg, "bad.jsonl:3"));
    const char *notype = "{\"type\":\"header\"}\n{\"x\":1}\n";
    assert_int_equal(el_run_parse(notype, strlen(notype), "nt.jsonl", &r, &err), -1);
    assert_non_null(strstr(err.msg, "nt.jsonl:2"));
    const char *two = "{\"type\":\"header\"}\n{\"type\":\"header\"}\n";
    assert_int_equal(el_run_parse(two, strlen(two), "two.jsonl", &r, &err), -1);
    assert_int_equal(el_run_parse("", 0, "empty.jsonl", &r, &err), -1);
    assert_int_equal(el_run_load("/nonexistent/run.jsonl", &r, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/run.jsonl"));
}

/* ---- fit and compare on files with known laws ---------------------------------- */

static uint64_t rng = 88172645463325252ull;
static double unif(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif()); }

/* a run file whose cpu_auc_core_s = a + b*tokens + noise, wall_s likewise */
static void write_linear_run(const char *path, double a, double b, double sd)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"type\":\"header\",\"schema\":\"edgelm-sweep/1\",\"model\":{\"desc\":\"test\"},"
               "\"energy\":{\"label\":\"estimated\",\"source\":\"model:x86\"}}\n");
    static const int xs[] = {16, 32, 64, 128, 256, 512, 1024};
    int id = 0;
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 7; i++) {
            double y = a + b * xs[i] + sd * gauss();
            fprintf(f,
                    "{\"type\":\"measurement\",\"id\":%d,\"tokens\":%d,\"repeat\":%d,\"cpu_auc_core_s\":%.9g,"
                    "\"ram_auc_mb_s\":%.9g,\"energy_j\":%.9g,\"wall_s\":%.9g,\"prefill_tps\":%.9g}\n",
                    id++, xs[i], r, y, 100 * y, 10 * y, y / 2, 1000 / (1 + b));
        }
    fprintf(f, "{\"type\":\"end\",\"complete\":true}\n");
    fclose(f);
}

static cJSON *run_json(const char *cmd)
{
    char *o = NULL, *e = NULL;
    int st = tu_run(cmd, &o, &e);
    if (st != 0) fail_msg("%s: exit %d: %s", cmd, st, e ? e : "");
    cJSON *j = cJSON_Parse(o);
    if (!j) fail_msg("%s: output is not JSON: %.200s", cmd, o);
    free(o), free(e);
    return j;
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(o, a);
    if (b) v = cJSON_GetObjectItem(v, b);
    if (!cJSON_IsNumber(v)) fail_msg("missing number %s.%s", a, b ? b : "");
    return v->valuedouble;
}

static void test_fit_known_line(void **state)
{
    (void)state;
    char *path = tu_tmp("study-line.jsonl");
    const double A = 0.8, B = 0.0125;
    write_linear_run(path, A, B, 0.05);
    char *cmd = tu_fmt(EL_BIN " fit %s --law linear --metric cpu_auc -o json --boot 1000", path);
    cJSON *j = run_json(cmd);
    const cJSON *f = cJSON_GetArrayItem(j, 0);
    assert_non_null(f);
    double a = num(f, "a", "est"), alo = num(f, "a", "lo"), ahi = num(f, "a", "hi");
    double b = num(f, "b", "est"), blo = num(f, "b", "lo"), bhi = num(f, "b", "hi");
    printf("# known a = %g, b = %g; fitted a = %.4f [%.4f, %.4f], b = %.6f [%.6f, %.6f], R2 = %.5f\n", A, B, a, alo, ahi,
           b, blo, bhi, num(f, "r2", NULL));
    assert_true(alo <= A && A <= ahi);
    assert_true(blo <= B && B <= bhi);
    assert_true(num(f, "r2", NULL) > 0.99);
    assert_int_equal((int)num(f, "n", NULL), 28);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "residuals")), 28);
    /* no quadratic term in the data: its p-value is not tiny */
    assert_true(num(f, "quadratic", "p") > 1e-3);
    cJSON_Delete(j);
    free(cmd);

    /* the table and the plot */
    char *svg = tu_tmp("study-line.svg");
    cmd = tu_fmt(EL_BIN " fit %s --metric all --svg %s", path, svg);
    char *o = NULL, *e = NULL;
    assert_int_equal(tu_run(cmd, &o, &e), 0);
    assert_non_null(strstr(o, "a (intercept)"));
    assert_non_null(strstr(o, "energy_j"));
    size_t len;
    char *s = tu_read_file(svg, &len);
    assert_non_null(s);
    assert_non_null(strstr(s, "class=\"el-plot\""));
    free(s), free(o), free(e), free(cmd), free(svg);

    /* bad input: unknown law, unknown metric, missing file */
    cmd = tu_fmt(EL_BIN " fit %s --law cubic", path);
    assert_int_equal(tu_run(cmd, &o, &e), 2);
    assert_non_null(strstr(e, "--law"));
    free(o), free(e), free(cmd);
    cmd = tu_fmt(EL_BIN " fit %s --metric bogus", path);
    assert_int_equal(tu_run(cmd, &o, &e), 1);
    assert_non_null(strstr(e, "bogus"));
    free(o), free(e), free(cmd);
    assert_int_equal(tu_run(EL_BIN " fit /nonexistent.jsonl", &o, &e), 1);
    assert_non_null(strstr(e, "/nonexistent.jsonl"));
    free(o), free(e);
    free(path);
}

static void test_fit_known_knee(void **state)
{
    (void)state;
    char *path = tu_tmp("study-knee.jsonl");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"type\":\"header\",\"schema\":\"edgelm-sweep/1\"}\n");
    const double KNEE = 786432, ALPHA = 0.85, PLATEAU = 40;  // 1024x768 pixels
    int id = 0;
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 14; i++) {
            double px = 16384 * pow(1.5, i);  // 16k .. 3.1M pixels
            double y = (px < KNEE ? PLATEAU * pow(px / KNEE, ALPHA) : PLATEAU) * (1 + 0.03 * gauss());
            fprintf(f, "{\"type\":\"measurement\",\"id\":%d,\"pixels\":%.1f,\"cpu_auc_core_s\":%.9g}\n", id++, px, y);
        }
    fclose(f);
    char *cmd = tu_fmt(EL_BIN " fit %s --law knee --x pixels -o json --boot 500", path);
    cJSON *j = run_json(cmd);
    const cJSON *k = cJSON_GetArrayItem(j, 0);
    double knee = num(k, "knee", "est"), lo = num(k, "knee", "lo"), hi = num(k, "knee", "hi");
    printf("# known knee %g, plateau %g, exponent %g; fitted knee %.0f [%.0f, %.0f], plateau %.3f, exponent %.3f\n", KNEE,
           PLATEAU, ALPHA, knee, lo, hi, num(k, "plateau", "est"), num(k, "alpha", "est"));
    assert_true(lo <= KNEE && KNEE <= hi);
    assert_true(fabs(knee / KNEE - 1) < 0.15);
    assert_true(num(k, "plateau", "lo") <= PLATEAU && PLATEAU <= num(k, "plateau", "hi"));
    assert_true(num(k, "alpha", "lo") <= ALPHA && ALPHA <= num(k, "alpha", "hi"));
    cJSON_Delete(j);
    free(cmd), free(path);
}

static void test_compare_known_reduction(void **state)
{
    (void)state;
    char *base = tu_tmp("study-base.jsonl"), *other = tu_tmp("study-other.jsonl");
    write_linear_run(base, 1.0, 0.01, 0.02);
    write_linear_run(other, 0.7, 0.007, 0.014);  // 30% cheaper in a and b
    char *cmd = tu_fmt(EL_BIN " compare %s %s -o json --boot 1000", base, other);
    cJSON *j = run_json(cmd);
    const cJSON *arr = cJSON_GetObjectItem(j, "metrics");
    assert_true(cJSON_GetArraySize(arr) >= 4);
    const cJSON *m = cJSON_GetArrayItem(arr, 0);
    assert_string_equal(cJSON_GetObjectItem(m, "metric")->valuestring, "cpu_auc_core_s");
    for (int k = 0; k < 3; k++) {
        const char *what = k == 0 ? "total" : k == 1 ? "intercept" : "slope";
        double est = num(m, what, "est"), lo = num(m, what, "lo"), hi = num(m, what, "hi");
        printf("# %s reduction %.2f%% [%.2f, %.2f] (true 30%%)\n", what, est, lo, hi);
        assert_true(lo <= 30 && 30 <= hi);
        assert_true(fabs(est - 30) < 5);
    }
    cJSON_Delete(j);
    free(cmd);
    char *o = NULL, *e = NULL;
    cmd = tu_fmt(EL_BIN " compare %s", base);
    assert_int_equal(tu_run(cmd, &o, &e), 2);
    free(o), free(e), free(cmd);
    free(base), free(other);
}

/* ---- sweeps on the real model ---------------------------------------------------- */

static const char *sweep_dir(void)
{
    static char *d;
    if (!d) {
        d = tu_tmp("study-runs");
        mkdir(d, 0755);
    }
    return d;
}

static void check_sweep_file(const char *path, int n_expect, const int *lengths, int n_len, bool reload)
{
    el_run r;
    el_err err;
    if (el_run_load(path, &r, &err) != 0) fail_msg("%s", err.msg);
    assert_true(r.complete);
    assert_int_equal(r.n_meas, n_expect);
    assert_non_null(el_run_header_str(&r, "machine", "cpu"));
    assert_string_equal(el_run_header_str(&r, "settings", "mode"), reload ? "reload" : "resident");
    assert_string_equal(el_run_header_str(&r, NULL, "schema"), "edgelm-sweep/1");
    const char *lab = el_run_energy_label(&r);
    assert_non_null(lab);
    assert_true(strcmp(lab, "measured") == 0 || strcmp(lab, "estimated") == 0);
    int count[16] = {0};
    double cpu_sum = 0;
    for (int i = 0; i < r.n_meas; i++) {
        const cJSON *m = (const cJSON *)r.meas[i];
        int tok = (int)num(m, "tokens", NULL);
        int k = 0;
        while (k < n_len && lengths[k] != tok) k++;
        assert_true(k < n_len);
        count[k]++;
        assert_int_equal((int)num(m, "n_prompt", NULL), tok);  // exactly the requested length
        assert_true(num(m, "cpu_auc_core_s", NULL) > -0.05);
        /* /proc counts CPU time in 10 ms ticks: one short prompt on this tiny
         * model may show none; the run as a whole must */
        cpu_sum += num(m, "user_s", NULL) + num(m, "system_s", NULL);
        assert_true(num(m, "wall_s", NULL) > 0);
        assert_true(num(m, "prefill_tps", NULL) > 0);
        assert_true(num(m, "ttft_s", NULL) > 0);
        assert_true(num(m, "peak_rss_mb", NULL) > 0);
        assert_true(isfinite(num(m, "energy_j", NULL)));
        assert_true(isfinite(num(m, "ram_auc_mb_s", NULL)));
        if (reload) assert_true(num(m, "load_s", NULL) > 0);
    }
    for (int k = 0; k < n_len; k++) assert_int_equal(count[k], n_expect / n_len);
    assert_true(cpu_sum > 0);
    el_run_free(&r);
}

static void test_sweep_resident(void **state)
{
    (void)state;
    char *model = tu_shared("data/models/stories260K.gguf"), *corpus = tu_shared("data/text/tinystories-valid-sample.txt");
    if (!tu_file_exists(model)) skip();
    char *out = tu_fmt("%s/a-resident.jsonl", sweep_dir());
    char *cmd = tu_fmt(EL_BIN " sweep llm -m %s -f %s -o %s --tokens 8,64,256 --repeat 2 --gen 4 --idle 0.5 "
                       "--pause 0.05 --hz 20 -t 1",
                       model, corpus, out);
    char *o = NULL, *e = NULL;
    int st = tu_run(cmd, &o, &e);
    if (st != 0) fail_msg("sweep failed (%d): %s", st, e);
    assert_non_null(strstr(e, "[6/6]"));  // progress lines
    static const int L[] = {8, 64, 256};
    check_sweep_file(out, 6, L, 3, false);
    char *trace = tu_fmt("%s/a-resident.trace.csv", sweep_dir());
    assert_true(tu_file_exists(trace));
    free(o), free(e), free(cmd), free(trace), free(out);
    free(model), free(corpus);
}

static void test_sweep_reload(void **state)
{
    (void)state;
    char *model = tu_shared("data/models/stories260K.gguf"), *corpus = tu_shared("data/text/tinystories-valid-sample.txt");
    if (!tu_file_exists(model)) skip();
    char *out = tu_fmt("%s/b-reload.jsonl", sweep_dir());
    char *cmd = tu_fmt(EL_BIN " sweep llm -m %s -f %s -o %s --tokens 16,128 --repeat 2 --gen 4 --idle 0.5 "
                       "--pause 0.05 --hz 20 -t 1 --mode reload -q",
                       model, corpus, out);
    char *o = NULL, *e = NULL;
    int st = tu_run(cmd, &o, &e);
    if (st != 0) fail_msg("sweep failed (%d): %s", st, e);
    static const int L[] = {16, 128};
    check_sweep_file(out, 4, L, 2, true);
    free(o), free(e), free(cmd), free(out), free(model), free(corpus);
}

static void test_sweep_bad_input(void **state)
{
    (void)state;
    char *model = tu_shared("data/models/stories260K.gguf"), *corpus = tu_shared("data/text/tinystories-valid-sample.txt");
    char *out = tu_tmp("study-bad.jsonl");
    struct {
        const char *args;
        int code;
        const char *msg;
    } cases[] = {
        {"sweep", 2, "llm"},
        {"sweep foo", 2, "foo"},
        {"sweep llm -f X -o Y", 2, "-m"},
        {"sweep llm -m M -o Y", 2, "-f"},
        {"sweep llm -m M -f C", 2, "-o"},
        {"sweep llm -m M -f C -o Y --mode fast", 2, "--mode"},
        {"sweep llm -m M -f C -o Y --tokens 0", 2, "--tokens"},
        {"sweep llm -m M -f C -o Y --tokens 16,abc", 2, "--tokens"},
        {"sweep llm -m M -f C -o Y --tokens 4000", 2, "context"},
        {"sweep llm -m M -f C -o Y --hz 0", 2, "--hz"},
        {"sweep llm -m M -f C -o Y --bogus", 2, "--bogus"},
        {"sweep llm -m /nonexistent.gguf -f C -o Y", 1, "/nonexistent.gguf"},
        {"sweep llm -m M -f /nonexistent.txt -o Y", 1, "/nonexistent.txt"},
        {"sweep llm -m M -f C -o /nonexistent/dir/run.jsonl --warmup 0", 1, "/nonexistent/dir/run.jsonl"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        // substitute the real paths for M, C, Y
        char args[1024] = "";
        const char *p = cases[i].args;
        size_t n = 0;
        for (; *p && n < sizeof args - 300; p++) {
            if ((*p == 'M' || *p == 'C' || *p == 'Y') && p[-1] == ' ' && (p[1] == ' ' || !p[1]))
                n += (size_t)snprintf(args + n, sizeof args - n, "%s", *p == 'M' ? model : *p == 'C' ? corpus : out);
            else args[n++] = *p;
        }
        args[n] = 0;
        char *cmd = tu_fmt(EL_BIN " %s", args);
        char *o = NULL, *e = NULL;
        int st = tu_run(cmd, &o, &e);
        if (st != cases[i].code || !strstr(e, cases[i].msg))
            fail_msg("'%s': exit %d (want %d), stderr: %s", args, st, cases[i].code, e);
        assert_non_null(strstr(e, "edgelm sweep: "));
        free(o), free(e), free(cmd);
    }
    char *o = NULL, *e = NULL;
    assert_int_equal(tu_run(EL_BIN " sweep --help", &o, &e), 0);
    assert_non_null(strstr(o, "--mode"));
    free(o), free(e);
    free(model), free(corpus), free(out);
}


/* An external meter's log (the study's USB-C meter): energy is known only when
 * the log is read at the end, so it arrives as "energy" records that the
 * reader merges. A constant 5 W log gives 5 W x the window's length. */
static void test_sweep_meter_energy(void **state)
{
    (void)state;
    char *model = tu_shared("data/models/stories260K.gguf"), *corpus = tu_shared("data/text/tinystories-valid-sample.txt");
    if (!tu_file_exists(model)) skip();
    char *log = tu_tmp("study-meter.csv");
    FILE *f = fopen(log, "w");
    assert_non_null(f);
    fprintf(f, "time,watts\n");
    double now = (double)time(NULL);
    for (int i = -30; i < 600; i++) fprintf(f, "%.1f,5.0\n", now + i * 0.5);
    fclose(f);
    char *out = tu_tmp("study-meter.jsonl");
    char *cmd = tu_fmt(EL_BIN " sweep llm -m %s -f %s -o %s --tokens 64,256 --repeat 1 --gen 8 --idle 0.5 "
                       "--pause 0.05 --hz 20 -t 1 -q --energy meter:%s --no-trace",
                       model, corpus, out, log);
    char *o = NULL, *e = NULL;
    int st = tu_run(cmd, &o, &e);
    if (st != 0) fail_msg("sweep failed (%d): %s", st, e);
    el_run r;
    el_err err;
    if (el_run_load(out, &r, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(r.n_meas, 2);
    assert_string_equal(el_run_energy_label(&r), "measured");
    for (int i = 0; i < r.n_meas; i++) {
        const cJSON *m = (const cJSON *)r.meas[i];
        double wall = num(m, "wall_s", NULL), ej = num(m, "energy_j", NULL);
        printf("# meter: window %.3f s, energy %.4f J (expected %.4f J)\n", wall, ej, 5 * wall);
        assert_true(fabs(ej - 5 * wall) <= 0.02 * 5 * wall + 1e-3);
    }
    el_run_free(&r);
    free(o), free(e), free(cmd), free(out), free(log), free(model), free(corpus);
}

/* ---- the report in a real browser ---------------------------------------------- */

/* pixels of the PNG within `tol` of colour (r,g,b) */
static long count_colour(const char *png, int r, int g, int b, int tol, int *w_out, int *h_out)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, png)) return -1;
    img.format = PNG_FORMAT_RGB;
    size_t sz = PNG_IMAGE_SIZE(img);
    unsigned char *px = malloc(sz);
    if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        free(px);
        png_image_free(&img);
        return -1;
    }
    long n = 0;
    for (size_t i = 0; i + 2 < sz; i += 3)
        if (abs(px[i] - r) <= tol && abs(px[i + 1] - g) <= tol && abs(px[i + 2] - b) <= tol) n++;
    *w_out = (int)img.width;
    *h_out = (int)img.height;
    free(px);
    return n;
}

static void test_report_renders_in_chromium(void **state)
{
    (void)state;
    const char *dir = sweep_dir();
    char *base = tu_fmt("%s/a-resident.jsonl", dir);
    if (!tu_file_exists(base)) skip();  // needs the sweep test's output
    char *html = tu_tmp("study-report.html");
    char *cmd = tu_fmt(EL_BIN " report %s -o %s", dir, html);
    char *o = NULL, *e = NULL;
    int st = tu_run(cmd, &o, &e);
    if (st != 0) fail_msg("report failed (%d): %s", st, e);
    free(o), free(e), free(cmd);
    size_t len;
    char *page = tu_read_file(html, &len);
    assert_non_null(page);
    int n_svg = 0;
    for (const char *p = page; (p = strstr(p, "<svg")); p++) n_svg++;
    printf("# report: %zu bytes, %d inline SVG plots\n", len, n_svg);
    // two runs: 4 fits + 2 traces each, plus 4 overlays
    assert_true(n_svg >= 14);
    assert_null(strstr(page, "src=\"http"));  // self-contained
    assert_null(strstr(page, "href=\"http"));
    free(page);

    const char *chromium = access("/usr/bin/chromium", X_OK) == 0 ? "/usr/bin/chromium" : NULL;
    if (!chromium) {
        printf("# chromium is not installed (Debian package chromium): the browser check is skipped\n");
        free(base), free(html);
        skip();
    }
    // 1. the page's own check: every plot has a drawn, non-empty box
    char *flags = "--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
                  "--disable-dev-shm-usage --user-data-dir=/tmp/edgelm-chromium-test";
    cmd = tu_fmt("%s %s --dump-dom file://%s", chromium, flags, html);
    st = tu_run(cmd, &o, &e);
    assert_int_equal(st, 0);
    const char *rc = strstr(o, "id=\"render-check\"");
    assert_non_null(rc);
    int plots = -1, ok = -2;
    const char *a = strstr(rc, "data-plots=\""), *b = strstr(rc, "data-ok=\"");
    assert_non_null(a);
    assert_non_null(b);
    plots = atoi(a + 12);
    ok = atoi(b + 9);
    printf("# chromium: %d of %d plots rendered with non-empty boxes\n", ok, plots);
    assert_int_equal(plots, n_svg);
    assert_int_equal(ok, plots);
    free(o), free(e), free(cmd);
    // 2. a screenshot: the measured points (#1f77b4) and the fits (#d62728) are on it
    char *png = tu_tmp("study-report.png");
    unlink(png);
    cmd = tu_fmt("%s %s --window-size=1400,5000 --screenshot=%s file://%s", chromium, flags, png, html);
    st = tu_run(cmd, &o, &e);
    assert_int_equal(st, 0);
    int w = 0, h = 0;
    long blue = count_colour(png, 0x1f, 0x77, 0xb4, 24, &w, &h);
    long red = count_colour(png, 0xd6, 0x27, 0x28, 24, &w, &h);
    printf("# screenshot %s: %dx%d, %ld blue (points) and %ld red (fit) pixels\n", png, w, h, blue, red);
    assert_true(blue > 2000);
    assert_true(red > 2000);
    free(o), free(e), free(cmd), free(png);
    free(base), free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runfile_parse),
        cmocka_unit_test(test_fit_known_line),
        cmocka_unit_test(test_fit_known_knee),
        cmocka_unit_test(test_compare_known_reduction),
        cmocka_unit_test(test_sweep_resident),
        cmocka_unit_test(test_sweep_reload),
        cmocka_unit_test(test_sweep_bad_input),
        cmocka_unit_test(test_sweep_meter_energy),
        cmocka_unit_test(test_report_renders_in_chromium),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
