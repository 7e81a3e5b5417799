/* study.h — the report side of a study file, checked by `mlplab plan` before
 * anything trains: `reference:` and `report:` (table, figures, compare, check).
 *
 * The later stages read these keys from results/NAME/study.yaml (manifest.h)
 * only after every run has trained; a misspelt metric or label found there
 * costs the whole study. So plan checks them here against the same tables
 * those stages use — the metrics of measures.h, the figure parser of
 * figures.h, the claim reader of check.h — and the study's labels, and every
 * error points at the study file (experiments/NAME.yaml:line:col, the line, a
 * caret), with a did-you-mean and a hint.
 *
 * A metric is a row of measures.h, or a custom metric that the Lua hook of
 * the runs it is asked of declares (custom_metrics, hooks.h): plan loads each
 * run's hook and hands the names over in study_names.custom_metrics.
 *
 * Nothing here allocates anything the caller must free. */
#ifndef MLP_STUDY_H
#define MLP_STUDY_H

#include <stddef.h>

#include "error.h"
#include "yamltree.h"

/* A custom metric a hook declares, and the label whose runs run that hook. */
typedef struct study_custom_metric {
    const char *name;
    size_t label;              /* index into study_names.labels */
} study_custom_metric;

typedef struct study_names {
    const char *name;          /* the study's name (figure titles, messages) */
    char *const *labels;       /* the labels its cases and sweep give, in study order */
    size_t label_count;
    int has_hooks;             /* some run has a Lua hook (for the hints) */
    const study_custom_metric *custom_metrics; /* what the runs' hooks declare, each (name,
                                                  label) once */
    size_t custom_count;
    const unsigned *label_records; /* per label: the MEASURE_* bits its runs record
                                      (measures.h): a metric they cannot record is refused */
    const int *label_epochs;   /* per label: the last epoch of its runs (train.epochs) */
    int quick;                 /* the quick profile: claims on epochs and a figure's xmin
                                  are checked on the full one only */
    int inline_data;           /* some run's data is dataset.inline (for the hints) */
    int diagnostic_layers;     /* the most weight layers of a run with train.diagnostics:
                                  K of layerK_* <= it */
    const unsigned long *seeds; /* the full profile's seeds (a confusion figure's seed: is
                                   one), or NULL: not checked (the quick profile drops seeds) */
    size_t seed_count;
} study_names;

/* Checks `reference` (a list, or NULL) and `report` (a mapping, or NULL), as
 * plan normalized them. Errors: MLP_ERR_CONFIG, located. */
int study_check_report(const yt_node *reference, const yt_node *report, const study_names *names,
                       mlp_error *err);

#endif
