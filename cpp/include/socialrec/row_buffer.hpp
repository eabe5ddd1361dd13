// Scratch storage for one factor row: on the stack for the compile-time factor counts of dispatch_dim(),
// on the heap otherwise. Steps that need a temporary row (a neighbour mean, a delayed gradient) use it.
#pragma once
#include <vector>

#include "socialrec/isa.hpp"
#include "socialrec/vec.hpp"

SOCIALREC_KERNELS_BEGIN

template <class T, class Dim>
struct RowBuffer {
    T values[Dim::size()];
    explicit RowBuffer(Dim) {}
    T* data() { return values; }
};

template <class T>
struct RowBuffer<T, DynamicDim> {
    std::vector<T> values;
    explicit RowBuffer(DynamicDim dim) : values(dim.size()) {}
    T* data() { return values.data(); }
};

template <class T, class Dim>
inline void fill_zero(T* __restrict a, Dim dim) {
#pragma omp simd
    for (int j = 0; j < dim.size(); ++j) a[j] = T(0);
}

SOCIALREC_KERNELS_END
