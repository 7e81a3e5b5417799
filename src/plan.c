/* plan.c — see plan.h. docs/studies.md describes the study file for users.
 *
 * Order of work: load the study and its extends chain, apply the command-line
 * overrides that name study keys (seeds=3), take the study-only keys out of
 * the tree (what remains is the base run config), check their shapes, then
 * build, validate and name every run. Only when every run is valid and no two
 * are the same does plan_write touch the disk.
 *
 * A study with `gradcheck:` trains nothing: it describes a matrix of gradient
 * checks (gradcheck_matrix.h) that `mlplab table` runs. Plan validates it,
 * refuses the keys that describe training, and writes study.yaml with the
 * normalized mapping and no runs, and a runs.mk with nothing to make. */
#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_canonical.h"
#include "fsutil.h"
#include "gradcheck_matrix.h"
#include "hooks.h"
#include "manifest.h"
#include "measures.h"
#include "study.h"
#include "suggest.h"
#include "watched.h"

enum {
    MAX_SEED_COUNT = 100000,    /* `seeds: N` larger than this is a typo */
    QUICK_EPOCHS = 2,           /* the default quick profile (docs/studies.md) */
    QUICK_TRAIN = 2000,
    QUICK_VALIDATION = 500,
    QUICK_TEST = 500
};

/* Keys of a study file that are not run config; removed before each run's
 * tree is built. */
static const char *const study_only_keys[] = {
    "name", "description", "cases", "sweep", "seeds", "reference", "report", "quick",
    "gradcheck", NULL};

/* Study keys that describe training runs, which a gradcheck study has none of. */
/* The keys of training runs and their report: a gradcheck study has none. */
static const char *const training_keys[] = {"cases", "sweep",     "seeds",
                                            "quick", "reference", "report", NULL};

/* Characters a label may not hold: they would break the shell quoting and the
 * make syntax of runs.mk (labels are single-quoted in recipes). */
static const char label_forbidden[] = "$'\"\\`";


/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

/* 1 if the first segment of dotted (up to '.', '=' or the end) is a study key. */
static int names_study_key(const char *dotted)
{
    while (isspace((unsigned char)*dotted))
        dotted++;
    size_t n = strcspn(dotted, ".= \t");
    char first[64];
    if (n == 0 || n >= sizeof first)
        return 0;
    memcpy(first, dotted, n);
    first[n] = '\0';
    return suggest_list_has(study_only_keys, first);
}

/* A growing string built with open_memstream. */
typedef struct text_out {
    FILE *f;
    char *data;
    size_t len;
} text_out;

static int text_open(text_out *t)
{
    t->data = NULL;
    t->len = 0;
    t->f = open_memstream(&t->data, &t->len);
    return t->f != NULL ? 0 : -1;
}

/* Closes the stream; returns the text (caller frees) or NULL on error. */
static char *text_close(text_out *t, mlp_error *err)
{
    int failed = ferror(t->f);
    if (fclose(t->f) != 0 || failed) {
        free(t->data);
        mlp_error_nomem(err, "the text being written");
        return NULL;
    }
    return t->data;
}

int plan_render_value(const yt_node *node, char *buf, size_t size)
{
    if (size == 0)
        return -1;
    buf[0] = '\0';
    size_t used = 0;
    if (node->kind == YT_SCALAR) {
        int n = snprintf(buf, size, "%s", node->scalar);
        return n < 0 || (size_t)n >= size ? -1 : 0;
    }
    int is_map = node->kind == YT_MAPPING;
    if (used + 1 >= size)
        return -1;
    buf[used++] = is_map ? '{' : '[';
    for (size_t i = 0; i < node->count; i++) {
        if (i > 0) {
            if (used + 1 >= size)
                return -1;
            buf[used++] = ',';
        }
        if (is_map) {
            int n = snprintf(buf + used, size - used, "%s:", node->keys[i]);
            if (n < 0 || (size_t)n >= size - used)
                return -1;
            used += (size_t)n;
        }
        buf[used] = '\0';
        if (plan_render_value(node->items[i], buf + used, size - used) != 0)
            return -1;
        used += strlen(buf + used);
    }
    if (used + 2 > size)
        return -1;
    buf[used++] = is_map ? '}' : ']';
    buf[used] = '\0';
    return 0;
}

/* Appends "sep key=value" to buf; -1 if it does not fit. */
static int append_assignment(char *buf, size_t size, const char *sep, const char *key,
                             const yt_node *value)
{
    char rendered[512];
    if (plan_render_value(value, rendered, sizeof rendered) != 0)
        return -1;
    size_t used = strlen(buf);
    int n = snprintf(buf + used, size - used, "%s%s=%s", used > 0 ? sep : "", key, rendered);
    return n < 0 || (size_t)n >= size - used ? -1 : 0;
}

/* ---------------------------------------------------------------------------
 * extends chains
 * ------------------------------------------------------------------------- */

int plan_load_tree(const char *path, yt_node **out, mlp_error *err)
{
    return config_load_tree(path, out, err);
}

/* ---------------------------------------------------------------------------
 * The parts of a study
 * ------------------------------------------------------------------------- */

typedef struct seed_entry {
    unsigned long value;
    yt_mark mark;               /* valid while parts.seeds lives */
} seed_entry;

typedef struct case_entry {
    const char *label;          /* "" for the implicit single case */
    yt_mark label_mark;
    const yt_node *node;        /* the case mapping, or NULL */
} case_entry;

typedef struct study_parts {
    const plan_options *options;
    const char *path;
    char name[CONFIG_NAME_MAX];
    char description[4096];
    yt_mark name_mark;
    yt_node *base;              /* the run config every run starts from */
    yt_node *cases, *sweep, *seeds, *quick, *reference, *report;   /* owned, or NULL */
    yt_node *gradcheck;         /* owned: the normalized gradcheck: mapping, or NULL */
    size_t n_combinations;      /* what the gradcheck matrix checks */
    case_entry *case_list;
    size_t n_cases;
    seed_entry *seed_list;      /* NULL: no seeds: key, the config's seed stands */
    size_t n_seeds;
    size_t n_points;            /* product of the sweep list lengths (1 without sweep) */
} study_parts;

static void parts_release(study_parts *p)
{
    yt_free(p->base);
    yt_free(p->cases);
    yt_free(p->sweep);
    yt_free(p->seeds);
    yt_free(p->quick);
    yt_free(p->reference);
    yt_free(p->report);
    yt_free(p->gradcheck);
    free(p->case_list);
    free(p->seed_list);
}

/* Moves map[key] into *out (a copy; the entry is removed). */
static int take_key(yt_node *map, const char *key, yt_node **out, mlp_error *err)
{
    *out = NULL;
    const yt_node *node = yt_map_get(map, key);
    if (node == NULL)
        return 0;
    *out = yt_copy(node);
    if (*out == NULL)
        return mlp_error_nomem(err, "the study");
    yt_map_remove(map, key);
    return 0;
}

static int check_label_text(const char *text, yt_mark mark, const char *what, mlp_error *err)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        if (*c < 0x20 || *c == 0x7f || strchr(label_forbidden, *c) != NULL)
            return yt_error_at(err, MLP_ERR_CONFIG, mark,
                               "labels name table rows, figure curves and make recipes; "
                               "they may hold spaces, commas and parentheses, but not $, "
                               "quotes, backslashes, backticks or control characters",
                               "%s '%s' holds a character labels cannot hold", what, text);
    return 0;
}

/* The study's name is its file name: results go to RESULTS/NAME and
 * `make study-NAME` finds experiments/NAME.yaml. A `name:` in the study file
 * itself must agree; one inherited through extends names the parent. */
static int read_name(const char *path, study_parts *p, mlp_error *err)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
        len -= 5;
    else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
        len -= 4;
    yt_mark file_mark = {path, 0, 0};
    static const char hint[] = "a study's name is its file name (letters, digits, '.', '_', "
                               "'-'); it names the results directory and `make study-NAME`";
    if (len == 0 || len >= sizeof p->name)
        return yt_error_at(err, MLP_ERR_USAGE, file_mark, hint,
                           "the study file name must be 1 to %d characters before .yaml",
                           (int)sizeof p->name - 1);
    memcpy(p->name, base, len);
    p->name[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        char c = p->name[i];
        if (!isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-')
            return yt_error_at(err, MLP_ERR_USAGE, file_mark, hint,
                               "the study name '%s' may hold only letters, digits, '.', '_' "
                               "and '-'", p->name);
    }
    if (p->name[0] == '.' || p->name[0] == '-')
        return yt_error_at(err, MLP_ERR_USAGE, file_mark, hint,
                           "the study name '%s' must not start with '.' or '-'", p->name);

    yt_node *own = yt_load_file(path, err);
    if (own == NULL)
        return err->status;
    const yt_node *name = yt_map_get(own, "name");
    const char *written = NULL;
    int rc = 0;
    if (name != NULL && yt_to_string(name, "name", &written, err) != 0)
        rc = err->status;
    else if (name != NULL && strcmp(written, p->name) != 0)
        rc = yt_error_at(err, MLP_ERR_CONFIG, name->mark,
                         "rename the file to match, or remove name: (it defaults to the file "
                         "name)", "name: '%s' differs from the file name '%s'", written,
                         p->name);
    yt_free(own);
    return rc;
}

static int read_description(const yt_node *node, study_parts *p, mlp_error *err)
{
    if (node == NULL || yt_is_null(node))
        return 0;
    const char *text;
    if (yt_to_string(node, "description", &text, err) != 0)
        return err->status;
    if (strlen(text) >= sizeof p->description)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "shorten it; comments in the study file can hold the rest",
                           "description is longer than %d characters",
                           (int)sizeof p->description - 1);
    snprintf(p->description, sizeof p->description, "%s", text);
    return 0;
}

/* A key set by a case, sweep or quick block must be run config, not study. */
static int check_run_key(const char *key, yt_mark mark, const char *where, mlp_error *err)
{
    if (!names_study_key(key) && strcmp(key, "extends") != 0 &&
        strcmp(key, "experiment") != 0)
        return 0;
    return yt_error_at(err, MLP_ERR_CONFIG, mark,
                       "cases, sweep and quick set run config keys such as "
                       "train.learning_rate; study keys go at the top of the study file",
                       "%s cannot set '%s'", where, key);
}

static int parse_seeds(const yt_node *node, study_parts *p, mlp_error *err)
{
    free(p->seed_list);
    p->seed_list = NULL;
    p->n_seeds = 1;
    if (node == NULL || yt_is_null(node))
        return 0;
    static const char hint[] = "seeds: N means seeds 1..N; or list them, e.g. seeds: [1, 2, 3]";
    if (node->kind == YT_SCALAR) {
        long count;
        if (yt_to_long(node, "seeds", &count, err) != 0)
            return err->status;
        if (count < 1 || count > MAX_SEED_COUNT)
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                               "seeds: a count must be 1 to %d, not %ld", MAX_SEED_COUNT,
                               count);
        p->seed_list = calloc((size_t)count, sizeof *p->seed_list);
        if (p->seed_list == NULL)
            return mlp_error_nomem(err, "the seeds");
        for (long i = 0; i < count; i++)
            p->seed_list[i] = (seed_entry){(unsigned long)i + 1, node->mark};
        p->n_seeds = (size_t)count;
        return 0;
    }
    if (node->kind != YT_SEQUENCE || node->count == 0)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                           "seeds must be a count or a non-empty list of integers");
    p->seed_list = calloc(node->count, sizeof *p->seed_list);
    if (p->seed_list == NULL)
        return mlp_error_nomem(err, "the seeds");
    for (size_t i = 0; i < node->count; i++) {
        long seed;
        char what[48];
        snprintf(what, sizeof what, "seeds[%zu]", i);
        if (yt_to_long(node->items[i], what, &seed, err) != 0)
            return err->status;
        if (seed < 0)
            return yt_error_at(err, MLP_ERR_CONFIG, node->items[i]->mark, hint,
                               "%s must be 0 or more, not %ld", what, seed);
        for (size_t j = 0; j < i; j++)
            if (p->seed_list[j].value == (unsigned long)seed)
                return yt_error_at(err, MLP_ERR_CONFIG, node->items[i]->mark,
                                   "each seed is one run of every case; list it once",
                                   "seed %ld is listed twice", seed);
        p->seed_list[i] = (seed_entry){(unsigned long)seed, node->items[i]->mark};
    }
    p->n_seeds = node->count;
    return 0;
}

static int parse_cases(study_parts *p, mlp_error *err)
{
    const yt_node *cases = p->cases;
    static const char hint[] = "e.g. cases: [{label: \"cross-entropy\", cost: cross-entropy}, "
                               "{label: \"quadratic\", cost: quadratic}]";
    if (cases == NULL || yt_is_null(cases)) {
        /* no cases: the base config is the one case */
        p->case_list = calloc(1, sizeof *p->case_list);
        if (p->case_list == NULL)
            return mlp_error_nomem(err, "the cases");
        p->case_list[0] = (case_entry){"", p->name_mark, NULL};
        p->n_cases = 1;
        return 0;
    }
    if (cases->kind != YT_SEQUENCE)
        return yt_error_at(err, MLP_ERR_CONFIG, cases->mark, hint,
                           "cases must be a list of mappings, each with a label");
    if (cases->count == 0)
        return yt_error_at(err, MLP_ERR_CONFIG, cases->mark,
                           "list at least one case, or leave cases: out to run the base "
                           "config alone", "cases is empty");
    p->case_list = calloc(cases->count, sizeof *p->case_list);
    if (p->case_list == NULL)
        return mlp_error_nomem(err, "the cases");
    for (size_t i = 0; i < cases->count; i++) {
        const yt_node *item = cases->items[i];
        if (item->kind != YT_MAPPING)
            return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                               "cases[%zu] must be a mapping with a label and overrides", i);
        const yt_node *label = yt_map_get(item, "label");
        if (label == NULL)
            return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                               "cases[%zu] has no label", i);
        const char *text;
        char what[48];
        snprintf(what, sizeof what, "cases[%zu].label", i);
        if (yt_to_string(label, what, &text, err) != 0)
            return err->status;
        if (text[0] == '\0')
            return yt_error_at(err, MLP_ERR_CONFIG, label->mark, hint, "%s is empty", what);
        if (check_label_text(text, label->mark, "the label", err) != 0)
            return err->status;
        for (size_t k = 0; k < item->count; k++) {
            if (strcmp(item->keys[k], "label") == 0)
                continue;
            char where[48];
            snprintf(where, sizeof where, "a case (%s)", text);
            if (check_run_key(item->keys[k], item->key_marks[k], where, err) != 0)
                return err->status;
        }
        p->case_list[i] = (case_entry){text, label->mark, item};
    }
    p->n_cases = cases->count;
    return 0;
}

static int parse_sweep(study_parts *p, mlp_error *err)
{
    p->n_points = 1;
    const yt_node *sweep = p->sweep;
    if (sweep == NULL || yt_is_null(sweep))
        return 0;
    static const char hint[] = "e.g. sweep: {network.sizes: [[784, 30, 10], [784, 100, 10]], "
                               "train.learning_rate: [0.1, 0.5]}";
    if (sweep->kind != YT_MAPPING)
        return yt_error_at(err, MLP_ERR_CONFIG, sweep->mark, hint,
                           "sweep must be a mapping of dotted keys to lists of values");
    for (size_t k = 0; k < sweep->count; k++) {
        const yt_node *values = sweep->items[k];
        if (check_run_key(sweep->keys[k], sweep->key_marks[k], "sweep", err) != 0 ||
            check_label_text(sweep->keys[k], sweep->key_marks[k], "the swept key", err) != 0)
            return err->status;
        if (values->kind != YT_SEQUENCE || values->count == 0)
            return yt_error_at(err, MLP_ERR_CONFIG, values->mark, hint,
                               "sweep.%s must be a non-empty list of values", sweep->keys[k]);
        for (size_t v = 0; v < values->count; v++) {
            char rendered[512];
            if (plan_render_value(values->items[v], rendered, sizeof rendered) != 0)
                return yt_error_at(err, MLP_ERR_CONFIG, values->items[v]->mark, NULL,
                                   "this value is too long to go into a label");
            if (check_label_text(rendered, values->items[v]->mark, "the swept value",
                                 err) != 0)
                return err->status;
        }
        if (p->n_points > PLAN_MAX_RUNS / values->count)
            return yt_error_at(err, MLP_ERR_CONFIG, values->mark, NULL,
                               "the sweep has more than %d points", PLAN_MAX_RUNS);
        p->n_points *= values->count;
    }
    return 0;
}

/* The quick: block: a mapping of dotted run keys, plus `seeds`. */
static int parse_quick(study_parts *p, mlp_error *err)
{
    const yt_node *quick = p->quick;
    if (quick == NULL || yt_is_null(quick))
        return 0;
    if (quick->kind != YT_MAPPING)
        return yt_error_at(err, MLP_ERR_CONFIG, quick->mark,
                           "e.g. quick: {train.epochs: 2, dataset.train_size: 2000, seeds: 1}",
                           "quick must be a mapping of dotted keys to values");
    for (size_t k = 0; k < quick->count; k++)
        if (strcmp(quick->keys[k], "seeds") != 0 &&
            check_run_key(quick->keys[k], quick->key_marks[k], "quick", err) != 0)
            return err->status;
    return 0;
}

/* Each reference is {label, source?, METRIC: number, ...}; the form
 * {label, metric: NAME, value: number} is rewritten to that, so study.yaml
 * gives the report one form. Checked here so that a typo is reported against
 * the study file before anything trains. */
static int normalize_reference(yt_node *item, size_t i, mlp_error *err)
{
    static const char hint[] = "e.g. {label: \"cross-entropy\", test_accuracy: 0.9549, "
                               "source: \"Nielsen, ch. 3\"}, or {label: ..., metric: "
                               "test_accuracy, value: 0.9549, source: ...}";
    char what[80];
    const char *text;
    if (item->kind != YT_MAPPING || yt_map_get(item, "label") == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                           "reference[%zu] must be a mapping with a label", i);
    const yt_node *metric = yt_map_get(item, "metric"), *value = yt_map_get(item, "value");
    double number;
    for (size_t k = 0; k < item->count; k++) {
        const char *key = item->keys[k];
        snprintf(what, sizeof what, "reference[%zu].%.32s", i, key);
        int is_text = strcmp(key, "label") == 0 || strcmp(key, "source") == 0 ||
                      strcmp(key, "metric") == 0;
        if (is_text ? yt_to_string(item->items[k], what, &text, err) != 0
                    : yt_to_double(item->items[k], what, &number, err) != 0)
            return err->status;
    }
    if (metric == NULL && value == NULL) {
        if (item->count < 2 + (yt_map_get(item, "source") != NULL))
            return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                               "reference[%zu] gives no value to compare with", i);
        return 0;
    }
    if (metric == NULL || value == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                           "reference[%zu] needs both metric: and value:", i);
    yt_node *copy = yt_copy(value);
    if (copy == NULL)
        return mlp_error_nomem(err, "the references");
    int at = yt_map_index(item, "metric");
    yt_mark key_mark = item->key_marks[at];
    char *name = strdup(metric->scalar);
    if (name == NULL) {
        yt_free(copy);
        return mlp_error_nomem(err, "the references");
    }
    yt_map_remove(item, "metric");
    yt_map_remove(item, "value");
    int rc = yt_map_set(item, name, copy, key_mark, err);
    free(name);
    return rc;
}

/* A gradcheck study has no cases, sweep, seeds or quick block, and no
 * reference or report (its table is the matrix; `mlplab check` checks the
 * expected results): pointed out at the key, before the keys are taken out
 * of the tree. */
static int refuse_training_keys(const study_parts *p, mlp_error *err)
{
    for (size_t i = 0; training_keys[i] != NULL; i++) {
        int at = yt_map_index(p->base, training_keys[i]);
        if (at < 0)
            continue;
        return yt_error_at(err, MLP_ERR_CONFIG, p->base->key_marks[at],
                           "gradcheck: describes the whole study and its table is the matrix "
                           "(docs/studies.md); cases, sweep, seeds, quick, reference and report "
                           "describe training runs",
                           "a gradcheck study trains nothing: leave out cases/sweep/seeds/quick/"
                           "reference/report (found '%s')", training_keys[i]);
    }
    return 0;
}

/* The rest of a gradcheck study: no run config may remain (it would be
 * silently ignored), and the matrix must be valid; it is kept normalized.
 * Command-line run overrides (train.epochs=5 for every study) never reach
 * p->base, so `make experiments PLAN_ARGS=...` still plans it. */
static int read_gradcheck(study_parts *p, mlp_error *err)
{
    if (p->base->count > 0)
        return yt_error_at(err, MLP_ERR_CONFIG, p->base->key_marks[0],
                           "a gradcheck study trains nothing; its network and check are set "
                           "in gradcheck: {matrix, sizes, examples, seed, epsilon, tolerance, "
                           "expect} (docs/studies.md)",
                           "'%s' is run config, which a gradcheck study does not use",
                           p->base->keys[0]);
    gradcheck_matrix *matrix = NULL;
    if (gradcheck_matrix_from_yaml(p->gradcheck, &matrix, err) != 0)
        return err->status;
    yt_node *normalized = gradcheck_matrix_to_yaml(matrix, err);
    p->n_combinations = matrix->n_rows;
    gradcheck_matrix_free(matrix);
    if (normalized == NULL)
        return err->status;
    yt_free(p->gradcheck);
    p->gradcheck = normalized;
    return 0;
}

/* Loads the study, applies study-level overrides and splits it into parts. */
static int read_parts(const char *path, const plan_options *options, study_parts *p,
                      mlp_error *err)
{
    p->options = options;
    p->path = path;
    if (read_name(path, p, err) != 0 || plan_load_tree(path, &p->base, err) != 0)
        return err->status;
    p->name_mark = (yt_mark){p->base->mark.file, 0, 0};
    for (int i = 0; i < options->n_overrides; i++)
        if (names_study_key(options->overrides[i]) &&
            config_apply_override(p->base, options->overrides[i], i + 1, err) != 0)
            return err->status;

    yt_node *description = NULL, *name = NULL;
    int rc = take_key(p->base, "description", &description, err);
    if (rc == 0)
        rc = read_description(description, p, err);
    yt_free(description);
    if (rc == 0)
        rc = take_key(p->base, "name", &name, err);
    yt_free(name);
    if (rc == 0)
        rc = take_key(p->base, "gradcheck", &p->gradcheck, err);
    if (rc == 0 && p->gradcheck != NULL)
        rc = refuse_training_keys(p, err);
    /* the rest of the study's own keys; what remains of base is the run config */
    const struct {
        const char *key;
        yt_node **part;
    } parts[] = {
        {"cases", &p->cases},         {"sweep", &p->sweep},         {"seeds", &p->seeds},
        {"quick", &p->quick},         {"reference", &p->reference}, {"report", &p->report},
    };
    for (size_t i = 0; rc == 0 && i < sizeof parts / sizeof parts[0]; i++)
        rc = take_key(p->base, parts[i].key, parts[i].part, err);
    if (rc != 0)
        return rc;

    if (p->reference != NULL && !yt_is_null(p->reference) && p->reference->kind != YT_SEQUENCE)
        return yt_error_at(err, MLP_ERR_CONFIG, p->reference->mark,
                           "e.g. reference: [{label: \"cross-entropy\", test_accuracy: 0.9549, "
                           "source: \"Nielsen, ch. 3\"}]",
                           "reference must be a list of mappings");
    for (size_t i = 0; p->reference != NULL && p->reference->kind == YT_SEQUENCE &&
                       i < p->reference->count; i++)
        if (normalize_reference(p->reference->items[i], i, err) != 0)
            return err->status;
    if (p->report != NULL && !yt_is_null(p->report) &&
        yt_expect_kind(p->report, YT_MAPPING, "report",
                       "e.g. report: {table: {metrics: [test_accuracy]}}", err) != 0)
        return err->status;
    if (p->gradcheck != NULL)
        return read_gradcheck(p, err);

    if (parse_cases(p, err) != 0 || parse_sweep(p, err) != 0 || parse_quick(p, err) != 0)
        return err->status;
    const yt_node *seeds = p->seeds;
    if (options->quick && p->quick != NULL && yt_map_get(p->quick, "seeds") != NULL)
        seeds = yt_map_get(p->quick, "seeds");
    if (parse_seeds(seeds, p, err) != 0)
        return err->status;
    if (options->quick && (p->quick == NULL || yt_is_null(p->quick)) && p->n_seeds > 1)
        p->n_seeds = 1;         /* the default quick profile: first seed only */
    if (p->n_cases * p->n_points > PLAN_MAX_RUNS / p->n_seeds)
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s: the study has more than %d runs", path,
                             PLAN_MAX_RUNS);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Building one run
 * ------------------------------------------------------------------------- */

/* Sets tree[key] = value (copied); a mapping merges into a mapping, as a file
 * extending another does. Errors point at key_mark or the value's own mark. */
static int apply_entry(yt_node *tree, const char *key, const yt_node *value, yt_mark key_mark,
                       mlp_error *err)
{
    yt_node *existing = yt_get(tree, key);
    if (existing != NULL && existing->kind == YT_MAPPING && value->kind == YT_MAPPING)
        return yt_merge(existing, value, err);
    yt_node *copy = yt_copy(value);
    if (copy == NULL)
        return mlp_error_nomem(err, "a run config");
    return yt_set(tree, key, copy, key_mark, err);
}

static int set_text(yt_node *tree, const char *key, const char *text, int quoted, yt_mark mark,
                    mlp_error *err)
{
    yt_node *node = yt_new_scalar(text, mark);
    if (node == NULL)
        return mlp_error_nomem(err, "a run config");
    node->quoted = quoted;
    return yt_set(tree, key, node, mark, err);
}

/* A relative hooks path becomes absolute: the per-run config lives in another
 * directory (RESULTS/NAME/configs), where a relative path would no longer
 * find the script. (The run id hashes the script's bytes, not its path.) */
static int absolutize_hooks(yt_node *tree, mlp_error *err)
{
    yt_node *script = yt_map_get(tree, "hooks");
    if (script == NULL || script->kind != YT_SCALAR || script->scalar[0] == '\0' ||
        script->scalar[0] == '/')
        return 0;
    char joined[PATH_MAX], real[PATH_MAX];
    if (config_resolve_relative(script->mark.file, script->scalar, joined, sizeof joined) != 0 ||
        realpath(joined, real) == NULL)
        return 0;           /* config_from_tree reports the path it cannot read */
    char *copy = strdup(real);
    if (copy == NULL)
        return mlp_error_nomem(err, "the hooks path");
    free(script->scalar);
    script->scalar = copy;
    return 0;
}

/* The custom metrics h declares, as one allocation: the NULL-terminated
 * array of pointers, then the names they point to. */
static char **copy_custom_metrics(const hooks *h, mlp_error *err)
{
    size_t n = hooks_custom_metric_count(h), bytes = (n + 1) * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(hooks_custom_metric(h, i)) + 1;
    char **names = malloc(bytes);
    if (names == NULL) {
        mlp_error_nomem(err, "the custom metrics");
        return NULL;
    }
    char *text = (char *)(names + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t length = strlen(hooks_custom_metric(h, i)) + 1;
        names[i] = memcpy(text, hooks_custom_metric(h, i), length);
        text += length;
    }
    names[n] = NULL;
    return names;
}

/* The run's hook script loaded as `mlplab run` loads it (hooks_new: its text,
 * its top level in the sandbox, its hook functions, its custom_metrics), so
 * that a script that does not compile or fails at its top level stops the
 * plan, not the run; the report can be checked against the custom metrics it
 * declares (run->custom_metrics), and what it watches against what the run
 * records (watched.h). A script's own error points at the study's `hooks:`
 * line, then gives the script's. Trains nothing. */
static int check_hook_script(const mlp_config *config, const yt_node *hooks_node, plan_run *run,
                             mlp_error *err)
{
    if (config->hooks_path[0] == '\0')
        return 0;
    hooks *h = NULL;
    int rc = hooks_new(config->hooks_path, config->hook_args, NULL, &h, err);
    if (rc == 0) {
        rc = watched_check(h, config, hooks_node, err);
        if (rc == 0 && (run->custom_metrics = copy_custom_metrics(h, err)) == NULL)
            rc = err->status;
        hooks_free(h);
        return rc;
    }
    if (hooks_node == NULL)
        return rc;
    char script[MLP_ERROR_MESSAGE_MAX];
    snprintf(script, sizeof script, "%s", err->message);
    char *rest = strchr(script, '\n');     /* a traceback: after the caret */
    if (rest != NULL)
        *rest++ = '\0';
    yt_error_at(err, MLP_ERR_CONFIG, hooks_node->mark, NULL, "hooks: %s", script);
    if (rest != NULL) {
        size_t used = strlen(err->message);
        snprintf(err->message + used, sizeof err->message - used, "\n%s", rest);
    }
    return MLP_ERR_CONFIG;
}

/* 1 if a command-line override sets exactly `key`. */
static int override_sets(const plan_options *options, const char *key)
{
    size_t n = strlen(key);
    for (int i = 0; i < options->n_overrides; i++) {
        const char *a = options->overrides[i];
        while (isspace((unsigned char)*a))
            a++;
        if (strncmp(a, key, n) == 0 && (a[n] == '=' || isspace((unsigned char)a[n])))
            return 1;
    }
    return 0;
}

/* The default quick profile: shrinks what is larger than the quick sizes,
 * except what the command line set. Re-validates when anything changed. */
static int shrink_quick(const plan_options *options, mlp_config **config, mlp_error *err)
{
    mlp_config *c = *config;
    struct {
        const char *key;
        long value, limit;
    } shrink[] = {
        {"train.epochs", c->epochs, QUICK_EPOCHS},
        {"dataset.train_size", c->train_size, QUICK_TRAIN},
        {"dataset.validation_size", c->validation_size, QUICK_VALIDATION},
        {"dataset.test_size", c->test_size, QUICK_TEST},
    };
    int is_inline = strcmp(c->dataset_name, "inline") == 0;
    size_t n_keys = is_inline ? 1 : sizeof shrink / sizeof shrink[0];
    yt_node *tree = NULL;
    yt_mark mark = {"the quick profile (--quick)", 0, 0};
    for (size_t i = 0; i < n_keys; i++) {
        if (shrink[i].value <= shrink[i].limit || override_sets(options, shrink[i].key))
            continue;
        if (tree == NULL && (tree = yt_copy(c->tree)) == NULL)
            return mlp_error_nomem(err, "a run config");
        char text[32];
        snprintf(text, sizeof text, "%ld", shrink[i].limit);
        if (set_text(tree, shrink[i].key, text, 0, mark, err) != 0) {
            yt_free(tree);
            return err->status;
        }
    }
    if (tree == NULL)
        return 0;
    config_free(c);
    *config = NULL;
    return config_from_tree(tree, config, err);
}

/* The sweep point's index for each swept key (first key varies slowest). */
static void point_indices(const yt_node *sweep, size_t point, size_t *index)
{
    for (size_t k = sweep != NULL ? sweep->count : 0; k-- > 0;) {
        size_t n = sweep->items[k]->count;
        index[k] = point % n;
        point /= n;
    }
}

/* The label and the "what differs" text of (case, sweep point). */
static int describe_point(const study_parts *p, const case_entry *c, const size_t *index,
                          char *label, char *differs, mlp_error *err)
{
    snprintf(label, PLAN_LABEL_MAX, "%s", c->label);
    differs[0] = '\0';
    for (size_t k = 0; c->node != NULL && k < c->node->count; k++)
        if (strcmp(c->node->keys[k], "label") != 0 &&
            append_assignment(differs, PLAN_DIFFERS_MAX, ", ", c->node->keys[k],
                              c->node->items[k]) != 0)
            snprintf(differs + PLAN_DIFFERS_MAX - 4, 4, "...");
    for (size_t k = 0; p->sweep != NULL && k < p->sweep->count; k++) {
        const yt_node *value = p->sweep->items[k]->items[index[k]];
        if (append_assignment(label, PLAN_LABEL_MAX, ", ", p->sweep->keys[k], value) != 0)
            return yt_error_at(err, MLP_ERR_CONFIG, value->mark, NULL,
                               "the label of this sweep point is longer than %d characters",
                               PLAN_LABEL_MAX - 1);
        if (append_assignment(differs, PLAN_DIFFERS_MAX, ", ", p->sweep->keys[k], value) != 0)
            snprintf(differs + PLAN_DIFFERS_MAX - 4, 4, "...");
    }
    if (label[0] == '\0')
        snprintf(label, PLAN_LABEL_MAX, "%s", p->name);
    if (differs[0] == '\0')
        snprintf(differs, PLAN_DIFFERS_MAX, "(base)");
    return 0;
}

/* Appends "note: while planning ..." so an error located in a shared base
 * file still says which run it was found in. */
static void note_context(mlp_error *err, const char *label, const seed_entry *seed)
{
    size_t used = strlen(err->message);
    char seed_text[32] = "";
    if (seed != NULL)
        snprintf(seed_text, sizeof seed_text, ", seed %lu", seed->value);
    snprintf(err->message + used, sizeof err->message - used,
             "\nnote: while planning the run '%s'%s", label, seed_text);
}

/* Builds, validates and names one run. */
static int build_run(const study_parts *p, const case_entry *c, const size_t *index,
                     const seed_entry *seed, plan_run *run, mlp_error *err)
{
    const plan_options *options = p->options;
    yt_node *tree = yt_copy(p->base);
    if (tree == NULL)
        return mlp_error_nomem(err, "a run config");
    int rc = 0;
    for (size_t k = 0; rc == 0 && c->node != NULL && k < c->node->count; k++)
        if (strcmp(c->node->keys[k], "label") != 0)
            rc = apply_entry(tree, c->node->keys[k], c->node->items[k], c->node->key_marks[k],
                             err);
    for (size_t k = 0; rc == 0 && p->sweep != NULL && k < p->sweep->count; k++)
        rc = apply_entry(tree, p->sweep->keys[k], p->sweep->items[k]->items[index[k]],
                         p->sweep->key_marks[k], err);
    for (size_t k = 0; rc == 0 && options->quick && p->quick != NULL &&
                       p->quick->kind == YT_MAPPING && k < p->quick->count; k++)
        if (strcmp(p->quick->keys[k], "seeds") != 0)
            rc = apply_entry(tree, p->quick->keys[k], p->quick->items[k],
                             p->quick->key_marks[k], err);
    for (int i = 0; rc == 0 && i < options->n_overrides; i++)
        if (!names_study_key(options->overrides[i]))
            rc = config_apply_override(tree, options->overrides[i], i + 1, err);
    if (rc == 0)
        rc = set_text(tree, "experiment", p->name, 1, p->name_mark, err);
    if (rc == 0)
        rc = set_text(tree, "label", run->label, 1, c->label_mark, err);
    if (rc == 0 && p->description[0] != '\0')
        rc = set_text(tree, "description", p->description, 1, p->name_mark, err);
    if (rc == 0 && seed != NULL) {
        char text[32];
        snprintf(text, sizeof text, "%lu", seed->value);
        rc = set_text(tree, "seed", text, 0, seed->mark, err);
    }
    if (rc == 0)
        rc = absolutize_hooks(tree, err);
    if (rc != 0) {
        yt_free(tree);
        note_context(err, run->label, seed);
        return rc;
    }

    const yt_node *hooks_in_tree = yt_map_get(tree, "hooks");
    yt_node *hooks_node = hooks_in_tree != NULL ? yt_copy(hooks_in_tree) : NULL;
    mlp_config *config = NULL;
    rc = config_from_tree(tree, &config, err);
    if (rc == 0)
        rc = check_hook_script(config, hooks_node, run, err);
    yt_free(hooks_node);
    if (rc == 0 && options->quick && (p->quick == NULL || yt_is_null(p->quick)))
        rc = shrink_quick(options, &config, err);
    if (rc == 0)
        rc = config_run_id(config, run->id, err);
    if (rc == 0 && (run->config_yaml = config_canonical_yaml(config, 1, err)) == NULL)
        rc = err->status;
    if (rc == 0) {
        run->seed = config->seed;
        run->has_hooks = config->hooks_path[0] != '\0';
        run->records = measures_recorded(config);
        run->inline_data = strcmp(config->dataset_name, "inline") == 0;
        run->weight_layers = config->n_layers - 1;
        run->epochs = config->epochs;
        snprintf(run->dataset, sizeof run->dataset, "%s", config->dataset_name);
    }
    config_free(config);
    if (rc != 0) {
        free(run->custom_metrics);
        run->custom_metrics = NULL;
        note_context(err, run->label, seed);
    }
    return rc;
}

/* ---------------------------------------------------------------------------
 * The whole study
 * ------------------------------------------------------------------------- */

/* Where a run came from, to point duplicate errors at the study file. */
typedef struct run_origin {
    size_t case_index, point;
} run_origin;

static int compare_run_ids(const void *a, const void *b)
{
    const plan_run *x = *(const plan_run *const *)a, *y = *(const plan_run *const *)b;
    int order = strcmp(x->id, y->id);
    if (order != 0)
        return order;
    return x < y ? -1 : x > y;      /* study order among equal ids */
}

/* The mark that best shows why runs a and b (a before b) are alike: b's case
 * label if the cases differ, else the first sweep value whose index differs. */
static yt_mark blame_mark(const study_parts *p, const run_origin *a, const run_origin *b,
                          size_t *index_a, size_t *index_b)
{
    if (a->case_index != b->case_index || p->sweep == NULL)
        return p->case_list[b->case_index].label_mark;
    point_indices(p->sweep, a->point, index_a);
    point_indices(p->sweep, b->point, index_b);
    for (size_t k = 0; k < p->sweep->count; k++)
        if (index_a[k] != index_b[k])
            return p->sweep->items[k]->items[index_b[k]]->mark;
    return p->case_list[b->case_index].label_mark;
}

static int check_duplicates(const study_parts *p, const plan_study *s, const run_origin *origin,
                            mlp_error *err)
{
    if (s->n_runs < 2)
        return 0;
    const plan_run **sorted = malloc(s->n_runs * sizeof *sorted);
    size_t n_keys = p->sweep != NULL ? p->sweep->count : 0;
    size_t *index_a = calloc(n_keys + 1, sizeof *index_a);
    size_t *index_b = calloc(n_keys + 1, sizeof *index_b);
    int rc = 0;
    if (sorted == NULL || index_a == NULL || index_b == NULL)
        rc = mlp_error_nomem(err, "the run list");
    for (size_t i = 0; rc == 0 && i < s->n_runs; i++)
        sorted[i] = &s->runs[i];
    if (rc == 0)
        qsort(sorted, s->n_runs, sizeof *sorted, compare_run_ids);
    for (size_t i = 1; rc == 0 && i < s->n_runs; i++) {
        if (strcmp(sorted[i - 1]->id, sorted[i]->id) != 0)
            continue;
        const plan_run *a = sorted[i - 1], *b = sorted[i];
        const run_origin *oa = &origin[a - s->runs], *ob = &origin[b - s->runs];
        rc = yt_error_at(err, MLP_ERR_CONFIG, blame_mark(p, oa, ob, index_a, index_b),
                         "a run is named by its resolved config: these two would train the "
                         "same network twice; remove one, or make them differ",
                         "'%s' and '%s' are the same run (seed %lu, id %.12s)", a->label,
                         b->label, b->seed, b->id);
    }
    free(sorted);
    free(index_a);
    free(index_b);
    return rc;
}

/* Adds label to the study's label list; two (case, point) pairs with the same
 * label would be one row of the table, so that is an error. */
static int add_label(const study_parts *p, plan_study *s, run_origin *label_origin,
                     const run_origin *here, const char *label, size_t *label_index,
                     mlp_error *err)
{
    for (size_t i = 0; i < s->n_labels; i++) {
        if (strcmp(s->labels[i], label) != 0)
            continue;
        size_t n_keys = p->sweep != NULL ? p->sweep->count : 0;
        size_t *a = calloc(n_keys + 1, sizeof *a), *b = calloc(n_keys + 1, sizeof *b);
        int rc;
        if (a == NULL || b == NULL)
            rc = mlp_error_nomem(err, "the labels");
        else
            rc = yt_error_at(err, MLP_ERR_CONFIG, blame_mark(p, &label_origin[i], here, a, b),
                             "labels name the rows of the tables and the curves of the "
                             "figures, so each must be distinct",
                             "the label '%s' is used twice", label);
        free(a);
        free(b);
        return rc;
    }
    s->labels[s->n_labels] = strdup(label);
    if (s->labels[s->n_labels] == NULL)
        return mlp_error_nomem(err, "the labels");
    label_origin[s->n_labels] = *here;
    *label_index = s->n_labels++;
    return 0;
}

static int expand(const study_parts *p, plan_study *s, mlp_error *err)
{
    size_t n_labels = p->n_cases * p->n_points;
    s->n_cases = p->n_cases;
    s->n_points = p->n_points;
    s->n_seeds = p->n_seeds;
    s->labels = calloc(n_labels, sizeof *s->labels);
    s->runs = calloc(n_labels * p->n_seeds, sizeof *s->runs);
    run_origin *origin = calloc(n_labels * p->n_seeds, sizeof *origin);
    run_origin *label_origin = calloc(n_labels, sizeof *label_origin);
    size_t *index = calloc((p->sweep != NULL ? p->sweep->count : 0) + 1, sizeof *index);
    int rc = 0;
    if (s->labels == NULL || s->runs == NULL || origin == NULL || label_origin == NULL ||
        index == NULL)
        rc = mlp_error_nomem(err, "the runs");
    char label[PLAN_LABEL_MAX], differs[PLAN_DIFFERS_MAX];
    for (size_t c = 0; rc == 0 && c < p->n_cases; c++) {
        for (size_t point = 0; rc == 0 && point < p->n_points; point++) {
            point_indices(p->sweep, point, index);
            run_origin here = {c, point};
            size_t label_index = 0;
            rc = describe_point(p, &p->case_list[c], index, label, differs, err);
            if (rc == 0)
                rc = add_label(p, s, label_origin, &here, label, &label_index, err);
            for (size_t k = 0; rc == 0 && k < p->n_seeds; k++) {
                plan_run *run = &s->runs[s->n_runs];
                memcpy(run->label, label, sizeof run->label);
                memcpy(run->differs, differs, sizeof run->differs);
                run->label_index = label_index;
                origin[s->n_runs] = here;
                rc = build_run(p, &p->case_list[c], index,
                               p->seed_list != NULL ? &p->seed_list[k] : NULL, run, err);
                if (rc == 0)
                    s->n_runs++;
            }
        }
    }
    if (rc == 0)
        rc = check_duplicates(p, s, origin, err);
    free(origin);
    free(label_origin);
    free(index);
    return rc;
}

/* The custom metrics the runs' hooks declare, each (name, label) once. The
 * runs of a label are consecutive (expand), so a name is looked for among the
 * entries of the current label only. *out (caller frees) points into s. */
static int collect_custom_metrics(const plan_study *s, study_custom_metric **out, size_t *count,
                                  mlp_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < s->n_runs; i++)
        for (char **name = s->runs[i].custom_metrics; name != NULL && *name != NULL; name++)
            total++;
    *count = 0;
    *out = calloc(total + 1, sizeof **out);
    if (*out == NULL)
        return mlp_error_nomem(err, "the custom metrics");
    size_t label_first = 0;     /* the first entry of the current label */
    for (size_t i = 0; i < s->n_runs; i++) {
        const plan_run *run = &s->runs[i];
        if (i > 0 && run->label_index != s->runs[i - 1].label_index)
            label_first = *count;
        for (char **name = run->custom_metrics; name != NULL && *name != NULL; name++) {
            size_t j = label_first;
            while (j < *count && strcmp((*out)[j].name, *name) != 0)
                j++;
            if (j == *count)
                (*out)[(*count)++] = (study_custom_metric){*name, run->label_index};
        }
    }
    return 0;
}

/* reference: and report: against the labels just planned (study.h), so that
 * a typo there is found now, not after every run has trained. */
static int check_report(const plan_study *s, const study_parts *p, mlp_error *err)
{
    study_names names = {.name = s->name, .labels = s->labels, .label_count = s->n_labels,
                         .quick = s->quick};
    unsigned *label_records = calloc(s->n_labels + 1, sizeof *label_records);
    int *label_epochs = calloc(s->n_labels + 1, sizeof *label_epochs);
    /* the full profile's seeds; the quick profile drops seeds, so none are checked */
    unsigned long *seeds = !s->quick ? calloc(s->n_runs + 1, sizeof *seeds) : NULL;
    study_custom_metric *custom = NULL;
    int rc = 0;
    if (label_records == NULL || label_epochs == NULL || (!s->quick && seeds == NULL))
        rc = mlp_error_nomem(err, "the study's labels");
    for (size_t i = 0; rc == 0 && i < s->n_runs; i++) {
        const plan_run *run = &s->runs[i];
        names.has_hooks |= run->has_hooks;
        names.inline_data |= run->inline_data;
        label_records[run->label_index] |= run->records;
        if (run->epochs > label_epochs[run->label_index])
            label_epochs[run->label_index] = run->epochs;
        if ((run->records & MEASURE_DIAGNOSTICS) && run->weight_layers > names.diagnostic_layers)
            names.diagnostic_layers = run->weight_layers;
        if (seeds != NULL)
            seeds[i] = run->seed;
    }
    if (rc == 0)
        rc = collect_custom_metrics(s, &custom, &names.custom_count, err);
    if (rc == 0) {
        names.label_records = label_records;
        names.label_epochs = label_epochs;
        names.custom_metrics = custom;
        if (seeds != NULL && s->n_runs > 0) {
            names.seeds = seeds;
            names.seed_count = s->n_runs;
        }
        const yt_node *reference = p->reference != NULL && !yt_is_null(p->reference)
                                       ? p->reference : NULL;
        const yt_node *report = p->report != NULL && !yt_is_null(p->report) ? p->report : NULL;
        rc = study_check_report(reference, report, &names, err);
    }
    free(custom);
    free(seeds);
    free(label_records);
    free(label_epochs);
    return rc;
}

/* One profile of the study (options->quick or not); *has_quick: the study has
 * a quick: block. */
static int plan_profile(const char *path, const plan_options *options, plan_study **out,
                        int *has_quick, mlp_error *err)
{
    *out = NULL;
    plan_study *s = calloc(1, sizeof *s);
    if (s == NULL)
        return mlp_error_nomem(err, "the study");
    study_parts parts = {0};
    int rc = read_parts(path, options, &parts, err);
    if (rc == 0) {
        snprintf(s->name, sizeof s->name, "%s", parts.name);
        snprintf(s->source, sizeof s->source, "%s", path);
        snprintf(s->description, sizeof s->description, "%s", parts.description);
        s->quick = options->quick;
        if (parts.gradcheck != NULL) {
            s->gradcheck = parts.gradcheck;
            s->n_combinations = parts.n_combinations;
            parts.gradcheck = NULL;
        } else {
            rc = expand(&parts, s, err);
        }
    }
    if (rc == 0)
        rc = check_report(s, &parts, err);
    *has_quick = parts.quick != NULL && !yt_is_null(parts.quick);
    if (rc == 0) {
        /* the report's inputs outlive the parts */
        s->reference = parts.reference;
        s->report = parts.report;
        parts.reference = parts.report = NULL;
    }
    parts_release(&parts);
    if (rc != 0) {
        plan_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* The profile asked for, then the other one, discarded: a mistake in the
 * quick: block is found by `mlplab plan`, not only by `--quick`, and one in
 * the full study by `--quick` too. Without a quick: block, a plain plan does
 * not try the default quick profile: the author wrote nothing for it. */
int plan_load(const char *path, const plan_options *options, plan_study **out, mlp_error *err)
{
    *out = NULL;
    mlp_error local = {0};
    if (err == NULL)
        err = &local;
    const plan_options none = {0};
    if (options == NULL)
        options = &none;
    int has_quick = 0, ignored;
    int rc = plan_profile(path, options, out, &has_quick, err);
    if (rc != 0 || (*out)->gradcheck != NULL || (!options->quick && !has_quick))
        return rc;
    plan_options other = *options;
    other.quick = !options->quick;
    plan_study *scratch = NULL;
    rc = plan_profile(path, &other, &scratch, &ignored, err);
    plan_free(scratch);
    if (rc != 0) {
        size_t used = strlen(err->message);
        snprintf(err->message + used, sizeof err->message - used, "\nnote: %s",
                 other.quick ? "in the quick profile (mlplab plan --quick, make experiments "
                               "QUICK=1), which the study's quick: block sets"
                             : "in the full profile (mlplab plan without --quick)");
        plan_free(*out);
        *out = NULL;
    }
    return rc;
}

void plan_free(plan_study *study)
{
    if (study == NULL)
        return;
    for (size_t i = 0; study->labels != NULL && i < study->n_labels; i++)
        free(study->labels[i]);
    free(study->labels);
    for (size_t i = 0; study->runs != NULL && i < study->n_runs; i++) {
        free(study->runs[i].config_yaml);
        free(study->runs[i].custom_metrics);
    }
    free(study->runs);
    yt_free(study->reference);
    yt_free(study->report);
    yt_free(study->gradcheck);
    free(study);
}

/* ---------------------------------------------------------------------------
 * Output files
 * ------------------------------------------------------------------------- */

char *plan_runs_mk(const plan_study *study, const char *study_dir, mlp_error *err)
{
    text_out t;
    if (text_open(&t) != 0) {
        mlp_error_nomem(err, "runs.mk");
        return NULL;
    }
    const char *name = study->name, *dir = study_dir;
    fprintf(t.f,
            "# runs.mk - the %zu runs of study %s%s, written by `mlplab plan %s`.\n"
            "# Generated: do not edit; edit the study and plan again. Run it from the\n"
            "# directory plan ran in:  make -f %s/runs.mk [-j N] [LAUNCH='srun ...']\n"
            "# A run file depends on its config file only, so rebuilding mlplab re-runs\n"
            "# nothing; FORCE=1 re-runs every run from scratch.\n\n",
            study->n_runs, name, study->quick ? " (quick profile)" : "", study->source, dir);
    if (study->gradcheck != NULL)
        fprintf(t.f, "# This study is a gradient check (gradcheck:): it trains nothing, so there\n"
                     "# is nothing to make; `mlplab table %s` runs the checks.\n\n", dir);
    fprintf(t.f, "MLPLAB ?= bin/mlplab\nRUN_ONE ?= scripts/run-one.sh\nLAUNCH ?=\n"
                 "export MLPLAB LAUNCH\n\n");
    fprintf(t.f, ".DEFAULT_GOAL := %s-runs\n.PHONY: %s-runs mlplab-force\n\n", name, name);
    fprintf(t.f, "%s_RUNS :=", name);
    for (size_t i = 0; i < study->n_runs; i++)
        fprintf(t.f, " \\\n  %s/runs/%s.h5", dir, study->runs[i].id);
    /* The named data sets the runs read, each once, in study order: make gets
     * them (data-NAME, mk/experiments.mk) before it runs the study. */
    fprintf(t.f, "\n\n%s_DATASETS :=", name);
    const char *listed[8];
    size_t n_listed = 0;
    for (size_t i = 0; i < study->n_runs; i++) {
        const char *set = study->runs[i].dataset;
        int seen = strcmp(set, "inline") == 0;
        for (size_t j = 0; !seen && j < n_listed; j++)
            seen = strcmp(listed[j], set) == 0;
        if (seen)
            continue;
        fprintf(t.f, " %s", set);
        if (n_listed < sizeof listed / sizeof listed[0])
            listed[n_listed++] = set;
    }
    /* .PRECIOUS: make deletes a target whose recipe is killed by a signal
     * (Ctrl-C, Slurm's SIGTERM) if its time changed, which for a run that
     * has just renamed its complete file would delete a complete run. */
    fprintf(t.f, "\n\n.PRECIOUS: $(%s_RUNS)\n%s-runs: $(%s_RUNS)\n\nmlplab-force:\n", name, name,
            name);
    for (size_t i = 0; i < study->n_runs; i++) {
        const plan_run *r = &study->runs[i];
        fprintf(t.f,
                "\n# [%zu/%zu] %s seed=%lu\n"
                "%s/runs/%s.h5: $(if $(FORCE),mlplab-force) | %s/configs/%s.yaml\n"
                "\t@$(RUN_ONE) $(if $(FORCE),--fresh) %s/configs/%s.yaml $@ '%s' '%s' %lu %zu "
                "%zu\n",
                i + 1, study->n_runs, r->label, r->seed, dir, r->id, dir, r->id, dir, r->id,
                name, r->label, r->seed, i + 1, study->n_runs);
    }
    return text_close(&t, err);
}

/* The manifest of a planned study (manifest.h writes it). */
char *plan_study_yaml(const plan_study *study, mlp_error *err)
{
    manifest_run *runs = calloc(study->n_runs + 1, sizeof *runs);
    if (runs == NULL) {
        mlp_error_nomem(err, "study.yaml");
        return NULL;
    }
    for (size_t i = 0; i < study->n_runs; i++)
        runs[i] = (manifest_run){study->runs[i].id, study->runs[i].label, study->runs[i].seed};
    const study_manifest m = {
        .name = study->name, .description = study->description, .source = study->source,
        .quick = study->quick, .label_count = study->n_labels, .labels = study->labels,
        .run_count = study->n_runs, .runs = runs,
        .reference = study->reference != NULL && !yt_is_null(study->reference) ? study->reference
                                                                            : NULL,
        .report = study->report != NULL && !yt_is_null(study->report) ? study->report : NULL,
        .gradcheck = study->gradcheck,
    };
    char *text = manifest_render(&m, err);
    free(runs);
    return text;
}



/* runs.mk names paths under the results directory in make rules and shell
 * words, unquoted: keep to characters neither reads specially. */
static int check_results_dir(const char *dir, mlp_error *err)
{
    if (dir[0] == '\0')
        return mlp_error_set(err, MLP_ERR_USAGE, "the results directory is empty");
    for (const unsigned char *c = (const unsigned char *)dir; *c; c++)
        if (*c <= 0x20 || *c == 0x7f || strchr("$:#%'\"\\`;&|*?[]()<>=~{}!", *c) != NULL)
            return mlp_error_set(err, MLP_ERR_USAGE,
                                 "the results directory '%s' holds '%c', which make or the "
                                 "shell would read specially; use letters, digits, '/', '.', "
                                 "'_', '-', '+', ',' or '@'", dir, *c);
    return 0;
}

int plan_write(const plan_study *study, const char *results_dir, size_t *configs_written,
               mlp_error *err)
{
    mlp_error local = {0};
    if (err == NULL)
        err = &local;
    if (configs_written != NULL)
        *configs_written = 0;
    if (check_results_dir(results_dir, err) != 0)
        return err->status;
    char study_dir[PATH_MAX / 2], path[PATH_MAX];
    size_t dir_len = strlen(results_dir);
    while (dir_len > 1 && results_dir[dir_len - 1] == '/')
        dir_len--;
    if (snprintf(study_dir, sizeof study_dir, "%.*s/%s", (int)dir_len, results_dir,
                 study->name) >= (int)sizeof study_dir)
        return mlp_error_set(err, MLP_ERR_USAGE, "%s: path too long", results_dir);
    snprintf(path, sizeof path, "%s/configs", study_dir);
    if (fsutil_make_dirs(path, err) != 0)
        return err->status;
    /* `make tables` visits the study directories that have runs/; a gradcheck
     * study's is empty, and stays so */
    snprintf(path, sizeof path, "%s/runs", study_dir);
    if (study->gradcheck != NULL && fsutil_make_dirs(path, err) != 0)
        return err->status;
    for (size_t i = 0; i < study->n_runs; i++) {
        int changed = 0;
        snprintf(path, sizeof path, "%s/configs/%s.yaml", study_dir, study->runs[i].id);
        if (fsutil_write_if_changed(path, study->runs[i].config_yaml, &changed, err) != 0)
            return err->status;
        if (configs_written != NULL)
            *configs_written += (size_t)changed;
    }
    char *mk = plan_runs_mk(study, study_dir, err);
    if (mk == NULL)
        return err->status;
    snprintf(path, sizeof path, "%s/runs.mk", study_dir);
    int rc = fsutil_write_if_changed(path, mk, NULL, err);
    free(mk);
    if (rc != 0)
        return rc;
    char *yaml = plan_study_yaml(study, err);
    if (yaml == NULL)
        return err->status;
    snprintf(path, sizeof path, "%s/study.yaml", study_dir);
    rc = fsutil_write_if_changed(path, yaml, NULL, err);
    free(yaml);
    return rc;
}
