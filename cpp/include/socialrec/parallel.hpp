// Thin OpenMP helpers; everything degrades to one thread when OpenMP is not found.
#pragma once
#if defined(_OPENMP)
#include <omp.h>
#endif

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>

namespace socialrec {

// The most threads a parallel region starts (the Python side refuses num_threads above it: _engine.MAX_THREADS).
// An OpenMP runtime that cannot start the threads it is asked for ends the process, so no count reaches it
// unbounded.
constexpr int kMaxThreads = 1024;

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

// 0 or a negative count means "all cores"; never more than kMaxThreads.
inline int resolve_threads(int requested) {
    return std::min(requested > 0 ? requested : max_threads(), kMaxThreads);
}

// An exception must not leave an OpenMP region (the runtime would call std::terminate: std::bad_alloc from a
// per-thread buffer ended the process). Work that may throw runs through run(), which keeps the first
// exception; after the region, rethrow() raises it on the calling thread, where the bindings turn it into a
// Python exception (std::bad_alloc -> MemoryError). Every thread still reaches each worksharing construct.
class ParallelErrors {
public:
    template <class Fn>
    bool run(Fn&& fn) noexcept {  // false when fn threw (or an earlier call on any thread did)
        if (failed()) return false;
        try {
            fn();
            return true;
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
            failed_.store(true, std::memory_order_relaxed);
            return false;
        }
    }
    bool failed() const { return failed_.load(std::memory_order_relaxed); }
    void rethrow() const {  // after the region (its barrier orders the writes)
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::mutex mutex_;
    std::exception_ptr error_;
    std::atomic<bool> failed_{false};
};

}  // namespace socialrec
