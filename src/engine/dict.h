/*
 * A dictionary of strings: each distinct string gets a small code (1, 2,
 * ...; 0 stands for "none"), so the projections hold attribute values and
 * event fields as integers and compare them as integers. Codes are never
 * reused or renumbered while the dictionary lives, so a code stays valid
 * in every array that holds it; the strings stay where they are (an
 * arena), so a pointer from mr_dict_str stays valid too.
 *
 * Thread-safe: lookups share a read lock; a new string takes the write
 * lock briefly.
 */
#ifndef MR_ENGINE_DICT_H
#define MR_ENGINE_DICT_H

#include <stddef.h>
#include <stdint.h>

struct mr_dict;

struct mr_dict *mr_dict_new(void);
/* Frees d and its strings (NULL is fine). */
void mr_dict_free(struct mr_dict *d);

/* The code of s (n bytes), added when new; 0 for s NULL. */
uint32_t mr_dict_intern(struct mr_dict *d, const char *s, size_t n);
/* As mr_dict_intern for a NUL-terminated string. */
uint32_t mr_dict_add(struct mr_dict *d, const char *s);
/* The code of s (NUL-terminated) when it is there, else 0. */
uint32_t mr_dict_find(struct mr_dict *d, const char *s);
/* The string of code, or NULL for 0 and unknown codes. */
const char *mr_dict_str(struct mr_dict *d, uint32_t code);
/* The largest code handed out (codes run 1..size). */
uint32_t mr_dict_size(struct mr_dict *d);

#endif
