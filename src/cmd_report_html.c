/* cmd_report_html.c — `mlplab report-html REPORT.md [--out FILE]`: the report
 * as one self-contained HTML page (html_report.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fsutil.h"
#include "html_report.h"

const char cmd_report_html_usage[] =
    "usage: mlplab report-html results/REPORT.md [--out FILE]\n"
    "\n"
    "Renders the Markdown report `make report` writes (each study's claims checked,\n"
    "its table, its figures) to one self-contained HTML page, through cmark-gfm\n"
    "with GitHub's tables: every figure linked as a relative .png is embedded in\n"
    "the page. FILE defaults to REPORT.md with .md replaced by .html; it is written\n"
    "to a temporary file and renamed. See docs/reports.md.\n"
    "Exit status: 0; 2 for a bad command line; 4 when the report or a figure it\n"
    "shows cannot be read; 1 when the page cannot be written.\n";

/* The whole of a text file, NUL-terminated; NULL when it cannot be read. */
static char *read_text(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    char *text = NULL;
    fsutil_read_all(file, SIZE_MAX, &text, NULL);
    fclose(file);
    return text;
}

int cmd_report_html(const cli_values *args)
{
    int status = MLP_OK;
    const char *input = args->operands[0], *output = args->out;
    size_t length = strlen(input);
    if (output == NULL && !(length > 3 && strcmp(input + length - 3, ".md") == 0)) {
        fprintf(stderr, "mlplab report-html: %s does not end in .md: give --out FILE\n", input);
        return MLP_ERR_USAGE;
    }
    char *default_output = NULL, *base_dir = strdup(input);
    if (output == NULL) {
        default_output = malloc(length + 3);
        if (default_output != NULL)
            snprintf(default_output, length + 3, "%.*s.html", (int)(length - 3), input);
        output = default_output;
    }
    if (output == NULL || base_dir == NULL) {
        free(default_output);
        free(base_dir);
        cli_print_error("out of memory");
        return MLP_ERR_RUN;
    }
    /* Figures are linked relative to the report's own directory. */
    char *slash = strrchr(base_dir, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        strcpy(base_dir, ".");

    mlp_error err = {0};
    char *html = NULL, *markdown = read_text(input);
    if (markdown == NULL)
        status = mlp_error_set(&err, MLP_ERR_DATA, "cannot read %s (run `make report` first)",
                               input);
    if (status == MLP_OK)
        status = html_report_render(markdown, base_dir, &html, &err);
    status = cli_write_output(status, output, html, "wrote ", &err);
    free(html);
    free(markdown);
    free(base_dir);
    free(default_output);
    return status;
}
