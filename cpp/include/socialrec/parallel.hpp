// Thin OpenMP helpers; everything degrades to one thread when OpenMP is not found.
#pragma once
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace socialrec {

inline int max_threads() {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}

inline int thread_id() {
#if defined(_OPENMP)
    return omp_get_thread_num();
#else
    return 0;
#endif
}

// 0 or a negative count means "all cores".
inline int resolve_threads(int requested) { return requested > 0 ? requested : max_threads(); }

}  // namespace socialrec
