// A small C interface to Google RE2 (Debian's libre2-dev): linear-time matching with the syntax
// of Go's regexp, which Prometheus' matchers, label_replace and relabeling use.
#ifndef SEXTANT_CRE2_H
#define SEXTANT_CRE2_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A compiled expression. Immutable after compilation; matching is safe from many threads.
typedef struct sx_re2 sx_re2;

/// Compiles `pattern` (UTF-8, `len` bytes) as RE2 syntax with `.` not matching a newline.
/// Returns NULL on error, with the reason copied (NUL-terminated, truncated) into `error`.
/// `max_mem` bounds the compiled program's memory in bytes (0 for RE2's default of 8 MiB).
sx_re2 *sx_re2_compile(const char *pattern, size_t len, int64_t max_mem, char *error, size_t error_capacity);

void sx_re2_free(sx_re2 *re);

/// Whether the whole of `text` matches.
int sx_re2_full_match(const sx_re2 *re, const char *text, size_t len);

/// The number of capturing groups.
int sx_re2_group_count(const sx_re2 *re);

/// The index of the named group `name`, or -1.
int sx_re2_group_index(const sx_re2 *re, const char *name, size_t len);

/// Matches the whole of `text`; on a match fills `offsets` with `groups + 1` pairs of byte
/// offsets (start, end) into `text`, group 0 first, -1 for a group that did not take part.
/// `groups` must not exceed `sx_re2_group_count`. Returns whether it matched.
int sx_re2_full_match_groups(const sx_re2 *re, const char *text, size_t len, int64_t *offsets, int groups);

/// The leftmost match in `text` at or after byte `start` (the text before `start` still counts
/// as context for `^` and `\b`), with its groups as `sx_re2_full_match_groups` fills them.
int sx_re2_find_groups(const sx_re2 *re, const char *text, size_t len, size_t start, int64_t *offsets, int groups);

#ifdef __cplusplus
}
#endif

#endif
