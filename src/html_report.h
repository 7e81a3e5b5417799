/* html_report.h — results/REPORT.html: the Markdown report (results/REPORT.md,
 * written by scripts/report.sh) rendered to one self-contained HTML page.
 *
 * The Markdown is parsed and rendered by cmark-gfm (Debian's libcmark-gfm-dev)
 * with GitHub's table, strikethrough and autolink extensions, in cmark's safe
 * mode: raw HTML in a study's description is not passed through. Every image
 * whose link is a relative path to a .png file is embedded as a
 * data:image/png;base64 URI read from base_dir, so the page needs no other
 * file; an image linked that way that cannot be read is an error, never a
 * page with a broken figure. The page around the rendered body is a fixed
 * template (charset, title, a short style sheet). docs/reports.md describes it.
 *
 * Ownership: *html is malloc'ed; the caller frees it. */
#ifndef MLP_HTML_REPORT_H
#define MLP_HTML_REPORT_H

#include "error.h"

/* markdown: the report's text; base_dir: the directory its relative image
 * links start from (the directory of REPORT.md). Errors: MLP_ERR_DATA for an
 * image that cannot be read (naming it), MLP_ERR_RUN when out of memory. */
int html_report_render(const char *markdown, const char *base_dir, char **html, mlp_error *err);

#endif
