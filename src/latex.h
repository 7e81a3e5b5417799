/* latex.h — text made safe for LaTeX, for the files a paper \input's as they
 * are: table.tex (report.c) and the figures' LaTeX labels (figures.c, for
 * gnuplot's cairolatex terminal).
 *
 * The ten specials are escaped (& % $ # _ { } ~ ^ \); the non-ASCII characters
 * mlplab's own text and the shipped studies use (η, ±, ×, —, −, ...) become
 * macros that plain pdflatex knows without packages (\ensuremath{\eta},
 * \ensuremath{\pm}, ---), so `\input{table.tex}` works in text and in math.
 * Any other UTF-8 text is passed through: a document that uses pdflatex needs
 * a definition for it (\DeclareUnicodeCharacter), LuaLaTeX and XeLaTeX take it
 * as it is. A newline or a tab becomes a space. */
#ifndef MLP_LATEX_H
#define MLP_LATEX_H

#include <stdio.h>

/* Writes text to out, escaped as above. */
void latex_put(FILE *out, const char *text);

/* The same as a malloc'ed string; NULL on out-of-memory. */
char *latex_escape(const char *text);

#endif
