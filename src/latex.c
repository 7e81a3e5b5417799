/* latex.c — see latex.h. One table of UTF-8 characters and their LaTeX. */
#include "latex.h"

#include <stdlib.h>
#include <string.h>

/* Characters with a LaTeX form plain pdflatex has; the longest first is not
 * needed (no entry is a prefix of another). */
static const struct {
    const char *utf8, *latex;
} characters[] = {
    {"±", "\\ensuremath{\\pm}"},     {"×", "\\ensuremath{\\times}"},
    {"−", "\\ensuremath{-}"},        {"—", "---"},
    {"–", "--"},                     {"≈", "\\ensuremath{\\approx}"},
    {"≤", "\\ensuremath{\\le}"},     {"≥", "\\ensuremath{\\ge}"},
    {"→", "\\ensuremath{\\to}"},     {"·", "\\ensuremath{\\cdot}"},
    {"′", "\\ensuremath{'}"},        {"√", "\\ensuremath{\\surd}"},
    {"σ", "\\ensuremath{\\sigma}"},  {"η", "\\ensuremath{\\eta}"},
    {"α", "\\ensuremath{\\alpha}"},  {"β", "\\ensuremath{\\beta}"},
    {"γ", "\\ensuremath{\\gamma}"},  {"δ", "\\ensuremath{\\delta}"},
    {"ε", "\\ensuremath{\\epsilon}"}, {"θ", "\\ensuremath{\\theta}"},
    {"λ", "\\ensuremath{\\lambda}"}, {"μ", "\\ensuremath{\\mu}"},
    {"π", "\\ensuremath{\\pi}"},     {"ρ", "\\ensuremath{\\rho}"},
    {"τ", "\\ensuremath{\\tau}"},    {"φ", "\\ensuremath{\\phi}"},
    {"ω", "\\ensuremath{\\omega}"},  {"Δ", "\\ensuremath{\\Delta}"},
    {"Σ", "\\ensuremath{\\Sigma}"},  {"∞", "\\ensuremath{\\infty}"},
    {"°", "\\ensuremath{^\\circ}"},  {"✓", "yes"},
    {"✗", "no"},
};

void latex_put(FILE *out, const char *text)
{
    for (const char *p = text; *p;) {
        size_t k = 0, count = sizeof characters / sizeof characters[0];
        while (k < count && strncmp(p, characters[k].utf8, strlen(characters[k].utf8)) != 0)
            k++;
        if (k < count) {
            fputs(characters[k].latex, out);
            p += strlen(characters[k].utf8);
            continue;
        }
        char c = *p++;
        if (c == '\\')
            fputs("\\textbackslash{}", out);
        else if (c == '~')
            fputs("\\textasciitilde{}", out);
        else if (c == '^')
            fputs("\\textasciicircum{}", out);
        else if (strchr("&%$#_{}", c) != NULL) {
            fputc('\\', out);
            fputc(c, out);
        } else
            fputc(c == '\n' || c == '\t' ? ' ' : c, out);
    }
}

char *latex_escape(const char *text)
{
    char *escaped = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&escaped, &size);
    if (out == NULL)
        return NULL;
    latex_put(out, text);
    if (fclose(out) != 0) {
        free(escaped);
        return NULL;
    }
    return escaped;
}
