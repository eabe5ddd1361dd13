// Small dense-vector helpers for factor rows, written so that the compiler vectorises them. A row length
// is either a compile-time constant (FixedDim<K>, fully unrolled) or a run-time one (DynamicDim);
// dispatch_dim() picks a constant for the common factor counts, so a model's step is written once.
// Reductions use `omp simd` (compiled with -fopenmp-simd), which lets the compiler reorder the sum.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "socialrec/isa.hpp"

SOCIALREC_KERNELS_BEGIN

template <int K>
struct FixedDim {
    static constexpr int size() { return K; }
};
struct DynamicDim {
    int k;
    int size() const { return k; }
};

// Calls fn(dim) with FixedDim<K> when k is one of the specialised sizes, else with DynamicDim{k}.
template <class Fn>
auto dispatch_dim(int k, Fn&& fn) {
    switch (k) {
        case 8: return fn(FixedDim<8>{});
        case 10: return fn(FixedDim<10>{});
        case 16: return fn(FixedDim<16>{});
        case 32: return fn(FixedDim<32>{});
        case 64: return fn(FixedDim<64>{});
        case 128: return fn(FixedDim<128>{});
        default: return fn(DynamicDim{k});
    }
}

// Scratch space for one factor row (a per-user cache, a gradient accumulator): on the stack when the row
// length is a compile-time constant, on the heap otherwise. Each call of a step owns its own, so Hogwild
// threads never share one.
template <class T, class Dim>
struct RowBuffer {
    std::vector<T> values;
    explicit RowBuffer(Dim dim) : values(dim.size(), T(0)) {}
    T* data() { return values.data(); }
};
template <class T, int K>
struct RowBuffer<T, FixedDim<K>> {
    alignas(64) T values[K] = {};
    explicit RowBuffer(FixedDim<K>) {}
    T* data() { return values; }
};

template <class T, class Dim>
inline T dot(const T* __restrict a, const T* __restrict b, Dim dim) {
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int j = 0; j < dim.size(); ++j) acc += a[j] * b[j];
    return acc;
}

template <class T, class Dim>
inline T squared_norm(const T* __restrict a, Dim dim) {
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int j = 0; j < dim.size(); ++j) acc += a[j] * a[j];
    return acc;
}

// y += alpha * x
template <class T, class Dim>
inline void axpy(T alpha, const T* __restrict x, T* __restrict y, Dim dim) {
#pragma omp simd
    for (int j = 0; j < dim.size(); ++j) y[j] += alpha * x[j];
}

SOCIALREC_KERNELS_END
