// Row-wise top-n selection over a dense block of scores (one row per user or query, one column per item),
// with a per-row exclusion list, ties broken by the lower item id. The executable specification is
// socialrec.reference.ranking.select (a stable argsort); this header must return exactly its lists.
//
// The scores come from one dense product per block of users (BLAS, through NumPy); what is left for C++ is
// one pass over each row. After the first n columns, an item can only enter the list when it beats the
// current n-th score, which for most rows happens a few hundred times in 100k columns, so the scan is a
// branch-free "any column of this chunk above the threshold?" test, and the rare candidates are appended to
// a buffer that nth_element compacts now and then.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "socialrec/isa.hpp"
#include "socialrec/parallel.hpp"
#include "socialrec/topk_args.hpp"

SOCIALREC_KERNELS_BEGIN

namespace topk_detail {

template <class T>
struct Entry {
    T score;
    std::int64_t id;
};

// a ranks above b: higher score, or the same score and the lower item id.
template <class T>
inline bool better(const Entry<T>& a, const Entry<T>& b) {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
}

// Bit j of the result is set when score row[j] (+ offset[j]) beats `threshold`, for j < kChunk: one
// vectorised comparison per chunk instead of a branch per column (NaN compares false). The sum is rounded
// to T exactly as the scalar `T(row[j] + offset[j])` is. The intrinsics are guarded by the instruction set the
// variant is compiled for (__AVX2__: the avx2 and avx512 variants; __SSE2__: the x86-64 baseline).
constexpr std::int64_t kChunk = 32;

#if defined(__AVX2__)
inline std::uint32_t chunk_mask(const float* row, const float* offset, float threshold) {
    const __m256 t = _mm256_set1_ps(threshold);
    std::uint32_t mask = 0;
    for (int v = 0; v < 4; ++v) {
        __m256 x = _mm256_loadu_ps(row + 8 * v);
        if (offset) x = _mm256_add_ps(x, _mm256_loadu_ps(offset + 8 * v));
        mask |= std::uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(x, t, _CMP_GT_OQ))) << (8 * v);
    }
    return mask;
}

inline std::uint32_t chunk_mask(const double* row, const double* offset, double threshold) {
    const __m256d t = _mm256_set1_pd(threshold);
    std::uint32_t mask = 0;
    for (int v = 0; v < 8; ++v) {
        __m256d x = _mm256_loadu_pd(row + 4 * v);
        if (offset) x = _mm256_add_pd(x, _mm256_loadu_pd(offset + 4 * v));
        mask |= std::uint32_t(_mm256_movemask_pd(_mm256_cmp_pd(x, t, _CMP_GT_OQ))) << (4 * v);
    }
    return mask;
}
#elif defined(__SSE2__)  // the x86-64 baseline variant: the same test, 16 bytes (4 floats, 2 doubles) per compare
// The four operations of the test for floats (__m128) and doubles (__m128d), overloaded on the type.
struct Sse2 {
    static __m128 set1(float t) { return _mm_set1_ps(t); }
    static __m128d set1(double t) { return _mm_set1_pd(t); }
    static __m128 load(const float* p) { return _mm_loadu_ps(p); }
    static __m128d load(const double* p) { return _mm_loadu_pd(p); }
    static __m128 add(__m128 a, __m128 b) { return _mm_add_ps(a, b); }
    static __m128d add(__m128d a, __m128d b) { return _mm_add_pd(a, b); }
    static int greater(__m128 a, __m128 b) { return _mm_movemask_ps(_mm_cmpgt_ps(a, b)); }  // NaN: false
    static int greater(__m128d a, __m128d b) { return _mm_movemask_pd(_mm_cmpgt_pd(a, b)); }
};

template <class T>
inline std::uint32_t chunk_mask(const T* row, const T* offset, T threshold) {
    constexpr int lanes = 16 / int(sizeof(T));
    const auto t = Sse2::set1(threshold);
    std::uint32_t mask = 0;
    for (int v = 0; v < kChunk / lanes; ++v) {
        auto x = Sse2::load(row + lanes * v);
        if (offset) x = Sse2::add(x, Sse2::load(offset + lanes * v));
        mask |= std::uint32_t(Sse2::greater(x, t)) << (lanes * v);
    }
    return mask;
}
#else  // other CPUs (aarch64: NEON by the compiler's vectoriser): one compare per column
template <class T>
inline std::uint32_t chunk_mask(const T* row, const T* offset, T threshold) {
    std::uint32_t mask = 0;
    for (int j = 0; j < kChunk; ++j)
        mask |= std::uint32_t((offset ? T(row[j] + offset[j]) : row[j]) > threshold) << j;
    return mask;
}
#endif

// One row of one tile: merges the tile's qualifying columns (not excluded, score neither -inf nor NaN, as
// in the CUDA kernel: -inf is what a masked score looks like) into the row's
// list. Candidates are appended to `buffer`; when it holds `capacity` of them, nth_element keeps the best n
// and their worst score becomes the threshold that later columns must beat. (A binary heap keeps the exact
// threshold but pays log n moves per candidate; with a few hundred candidates per 100k columns, appending
// and compacting now and then is cheaper.) Columns arrive in increasing id order, tile after tile, so a
// column that only ties the threshold has a higher id than the kept entry it ties: it ranks below, hence
// the strict comparison.
template <class T>
void select_row(const TopKArgs<T>& a, std::int64_t r, const Exclusion& excluded, std::vector<Entry<T>>& buffer) {
    const T* row = a.scores + r * a.cols;
    std::int64_t* ids = a.best_ids + r * a.n;
    T* best = a.best_scores + r * a.n;
    const auto n = std::size_t(a.n);
    const std::size_t capacity = std::max<std::size_t>(4 * n, 64);
    buffer.clear();
    bool full = false;  // buffer holds at least n entries and `threshold` is the n-th best score
    T threshold = -std::numeric_limits<T>::infinity();
    auto compact = [&] {
        std::nth_element(buffer.begin(), buffer.begin() + (n - 1), buffer.end(), better<T>);
        buffer.resize(n);
        threshold = buffer[n - 1].score;
        full = true;
    };
    if (a.merge) {  // padding (-1) only ever follows the kept entries
        for (std::size_t j = 0; j < n && ids[j] >= 0; ++j) buffer.push_back({best[j], ids[j]});
        if (buffer.size() == n) {
            threshold = std::min_element(buffer.begin(), buffer.end(), [](const Entry<T>& x, const Entry<T>& y) {
                            return better(y, x);  // the worst entry
                        })->score;
            full = true;
        }
    }
    auto score_at = [&](std::int64_t c) -> T { return a.item_offset ? T(row[c] + a.item_offset[c]) : row[c]; };
    auto offer = [&](std::int64_t c, T s) {
        const std::int64_t id = a.columns ? a.columns[c] : a.column_start + c;
        if (excluded.contains(id)) return;
        buffer.emplace_back(Entry<T>{s, id});
        if (buffer.size() == capacity) compact();
    };
    std::int64_t c = 0;
    for (; c < a.cols && !full; ++c) {  // until n are kept, every qualifying column enters
        const T s = score_at(c);
        if (s > -std::numeric_limits<T>::infinity()) offer(c, s);  // false for -inf and NaN
    }
    for (; c + kChunk <= a.cols; c += kChunk) {  // visit only the columns of a chunk that beat the threshold
        std::uint32_t mask = chunk_mask(row + c, a.item_offset ? a.item_offset + c : nullptr, threshold);
        while (mask != 0) {
            const std::int64_t j = c + __builtin_ctz(mask);
            mask &= mask - 1;
            const T s = score_at(j);
            if (s > threshold) offer(j, s);  // the threshold may have risen since the mask was taken
        }
    }
    for (; c < a.cols; ++c) {
        const T s = score_at(c);
        if (s > threshold) offer(c, s);
    }

    if (buffer.size() > n) compact();
    if (a.finish) std::sort(buffer.begin(), buffer.end(), better<T>);
    for (std::size_t j = 0; j < buffer.size(); ++j) {
        ids[j] = buffer[j].id;
        best[j] = buffer[j].score;
    }
    for (std::size_t j = buffer.size(); j < n; ++j) {
        ids[j] = -1;
        best[j] = -std::numeric_limits<T>::infinity();
    }
}

}  // namespace topk_detail

// Merges one tile of columns into the best lists of every row; rows are spread over `threads` threads.
// The exclusion lists must be sorted (lists_sorted); a row's list must be short enough to keep (n).
// A failed allocation of a thread's buffer (an enormous n) raises std::bad_alloc after the region.
template <class T>
void topk_select(const TopKArgs<T>& a) {
    using namespace topk_detail;
    if (a.rows <= 0) return;
    ParallelErrors errors;
#if defined(_OPENMP)
#pragma omp parallel num_threads(resolve_threads(a.threads)) if (a.rows > 1)
#endif
    {
        std::vector<Entry<T>> buffer;
        // select_row keeps at most max(4n, 64) entries, and never more than the merged list and the tile
        const std::size_t most = std::min<std::size_t>(std::max<std::size_t>(4 * std::size_t(a.n), 64),
                                                       std::size_t(a.n) + std::size_t(a.cols));
        errors.run([&] { buffer.reserve(most); });
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, 4)
#endif
        for (std::int64_t r = 0; r < a.rows; ++r)
            errors.run([&] {
                select_row(a, r, a.row_list ? exclusion_of(a.exclude, a.row_list[r]) : Exclusion{}, buffer);
            });
    }
    errors.rethrow();
}

SOCIALREC_KERNELS_END
