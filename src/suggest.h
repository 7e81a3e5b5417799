/* suggest.h — "did you mean ...?" for a name a user mistyped (a config key, a
 * cost, a figure key). One notion of "near" for every error message: the
 * optimal-string-alignment distance (Levenshtein plus adjacent swaps),
 * case-insensitive, at most 1 edit for names of up to 4 characters, 2 up to 8,
 * 3 beyond. */
#ifndef MLP_SUGGEST_H
#define MLP_SUGGEST_H

#include <stddef.h>

/* The candidate nearest to word, or NULL when none is near enough to be a
 * typo. candidates: n names (a NULL-terminated list may pass its count). */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);

/* "; did you mean 'x'?" into buf, or "" when nothing is near. */
void suggest_did_you_mean(const char *word, const char *const *candidates, size_t n, char *buf,
                          size_t size);

/* "a, b, c" (quoted: "'a', 'b'") of n words into buf, cut at size: the list a
 * hint gives of the names that would be valid. */
void suggest_join(const char *const *words, size_t n, int quoted, char *buf, size_t size);

/* Number of entries of a NULL-terminated list. */
size_t suggest_list_count(const char *const *list);

/* 1 if word is one of the entries of a NULL-terminated list. */
int suggest_list_has(const char *const *list, const char *word);

#endif
