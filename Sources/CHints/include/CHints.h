#ifndef SEXTANT_CHINTS_H
#define SEXTANT_CHINTS_H

/// Asks the CPU to start loading the cache line holding `p`, to be written soon: a hint, never
/// a fault, whatever `p` is.
static inline void sextant_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }

#endif
