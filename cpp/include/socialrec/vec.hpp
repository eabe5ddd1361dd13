// Small dense-vector helpers for factor rows, written so that the compiler vectorises them. A row length
// is either a compile-time constant (FixedDim<K>, fully unrolled) or a run-time one (DynamicDim);
// dispatch_dim() picks a constant for the common factor counts, so a model's step is written once.
#pragma once
#include <cstdint>
#include <utility>
#include <cstring>

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

// Sums of products are accumulated in a GCC vector of the register width (kVectorBytes), then in one of
// half that width for the rest, and the lanes are added as a tree. A plain `acc += a[j] * b[j]`
// makes GCC 12 add the vector lanes one after another at the end even under `omp simd reduction` (seen: 16
// dependent scalar adds per dot product, the bottleneck of the SGD step).
// The widest vector register of the variant being compiled: wider GCC vectors are split through the stack.
#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
#elif defined(__AVX__)
constexpr int kVectorBytes = 32;
#else
constexpr int kVectorBytes = 16;
#endif

template <int Offset, int... I>
constexpr std::integer_sequence<int, (I + Offset)...> shift(std::integer_sequence<int, I...>) {
    return {};
}

template <class T, int Bytes>
struct VectorOf {
    typedef T type __attribute__((vector_size(Bytes)));
    static constexpr int lanes = Bytes / int(sizeof(T));
};

template <class V, int... I>
SOCIALREC_INLINE auto lanes_of(V v, std::integer_sequence<int, I...>) {
    return __builtin_shufflevector(v, v, I...);
}

// Lane sum by halving (64 -> 32 -> 16 bytes as vector adds in registers, then the last lanes in scalar).
template <class T, int Bytes>
SOCIALREC_INLINE T horizontal_sum(typename VectorOf<T, Bytes>::type v) {
    constexpr int W = VectorOf<T, Bytes>::lanes;
    if constexpr (Bytes <= 16) {
        T sum = v[0];
        for (int l = 1; l < W; ++l) sum += v[l];
        return sum;
    } else {
        using Seq = std::make_integer_sequence<int, W / 2>;
        const auto low = lanes_of(v, Seq{});
        const auto high = lanes_of(v, shift<W / 2>(Seq{}));
        return horizontal_sum<T, Bytes / 2>(low + high);
    }
}

template <class T, class Dim>
SOCIALREC_INLINE T dot(const T* a, const T* b, Dim dim) {
    using Wide = VectorOf<T, kVectorBytes>;
    using Half = VectorOf<T, kVectorBytes / 2>;
    const int n = dim.size();
    int j = 0;
    T sum = 0;
    if (n >= Wide::lanes) {
        typename Wide::type acc = {};
        for (; j + Wide::lanes <= n; j += Wide::lanes) {
            typename Wide::type x, y;
            __builtin_memcpy(&x, a + j, sizeof x);
            __builtin_memcpy(&y, b + j, sizeof y);
            acc += x * y;
        }
        sum = horizontal_sum<T, kVectorBytes>(acc);
    }
    if (j + Half::lanes <= n) {
        typename Half::type x, y;
        __builtin_memcpy(&x, a + j, sizeof x);
        __builtin_memcpy(&y, b + j, sizeof y);
        sum += horizontal_sum<T, kVectorBytes / 2>(x * y);
        j += Half::lanes;
    }
    for (; j < n; ++j) sum += a[j] * b[j];
    return sum;
}

template <class T, class Dim>
SOCIALREC_INLINE T squared_norm(const T* a, Dim dim) {
    return dot<T>(a, a, dim);
}

// The SGD pair update of factor rows p and q with error e (all models' rating steps share it):
//   p <- p + gamma (e q - lambda_p p),   q <- q + gamma (e p_old - lambda_q q)
template <class T, class Dim>
SOCIALREC_INLINE void pair_update(T* p, T* q, T e, T gamma, T lambda_p, T lambda_q, Dim dim) {
    using Wide = VectorOf<T, kVectorBytes>;
    const int n = dim.size();
    int j = 0;
    for (; j + Wide::lanes <= n; j += Wide::lanes) {
        typename Wide::type x, y;
        std::memcpy(&x, p + j, sizeof x);
        std::memcpy(&y, q + j, sizeof y);
        const typename Wide::type nx = x + gamma * (e * y - lambda_p * x);
        const typename Wide::type ny = y + gamma * (e * x - lambda_q * y);
        std::memcpy(p + j, &nx, sizeof nx);
        std::memcpy(q + j, &ny, sizeof ny);
    }
    for (; j < n; ++j) {
        const T x = p[j], y = q[j];
        p[j] = x + gamma * (e * y - lambda_p * x);
        q[j] = y + gamma * (e * x - lambda_q * y);
    }
}

// y += alpha * x
template <class T, class Dim>
SOCIALREC_INLINE void axpy(T alpha, const T* __restrict x, T* __restrict y, Dim dim) {
#pragma omp simd
    for (int j = 0; j < dim.size(); ++j) y[j] += alpha * x[j];
}

SOCIALREC_KERNELS_END
