// Small dense-vector helpers for factor rows, written so that the compiler vectorises them. A row length
// is either a compile-time constant (FixedDim<K>, fully unrolled) or a run-time one (DynamicDim);
// dispatch_dim() picks a constant for the common factor counts, so a model's step is written once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>
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

template <int... I, int... J>
constexpr std::integer_sequence<int, I..., J...> join(std::integer_sequence<int, I...>,
                                                      std::integer_sequence<int, J...>) {
    return {};
}

template <class V, int... I>
SOCIALREC_INLINE auto lanes_of(V u, V v, std::integer_sequence<int, I...>) {
    return __builtin_shufflevector(u, v, I...);
}

// Two lane sums at once: w (W lanes) holds the partial sums of one in its low half and of the other in its
// high half; each round halves both with one shuffle pair and one add.
template <class T, int W, class V>
SOCIALREC_INLINE void paired_sums(V w, T& low_sum, T& high_sum) {
    if constexpr (W == 2) {
        low_sum = w[0];
        high_sum = w[1];
    } else {
        using Q = std::make_integer_sequence<int, W / 4>;
        const auto front = lanes_of(w, join(Q{}, shift<W / 2>(Q{})));
        const auto back = lanes_of(w, join(shift<W / 4>(Q{}), shift<3 * W / 4>(Q{})));
        paired_sums<T, W / 2>(front + back, low_sum, high_sum);
    }
}

// su = sum of u's lanes, sv = sum of v's (L lanes each), sharing the shuffles and adds.
template <class T, int L, class V>
SOCIALREC_INLINE void horizontal_sums(V u, V v, T& su, T& sv) {
    if constexpr (L == 1) {
        su = u[0];
        sv = v[0];
    } else {
        using H = std::make_integer_sequence<int, L / 2>;
        const auto w = lanes_of(u, v, join(H{}, shift<L>(H{})))
                       + lanes_of(u, v, join(shift<L / 2>(H{}), shift<L + L / 2>(H{})));
        paired_sums<T, L>(w, su, sv);
    }
}

template <class T>
struct DotAndNorms {
    T dot;    // x . y
    T norms;  // |a|^2 + |b|^2
};

// x . y and |a|^2 + |b|^2 in one pass with one shared lane reduction: the prediction and the penalty of an
// SGD step (a, b are often x, y). Separate dot()/squared_norm() calls pay three reductions.
template <class T, class Dim>
SOCIALREC_INLINE DotAndNorms<T> dot_and_norms(const T* x, const T* y, const T* a, const T* b, Dim dim) {
    using Wide = VectorOf<T, kVectorBytes>;
    using Half = VectorOf<T, kVectorBytes / 2>;
    const int n = dim.size();
    int j = 0;
    typename Half::type dot_h = {}, norms_h = {};
    if (n >= Wide::lanes) {
        typename Wide::type dot_w = {}, norms_w = {};
        for (; j + Wide::lanes <= n; j += Wide::lanes) {
            typename Wide::type xv, yv, av, bv;
            __builtin_memcpy(&xv, x + j, sizeof xv);
            __builtin_memcpy(&yv, y + j, sizeof yv);
            __builtin_memcpy(&av, a + j, sizeof av);
            __builtin_memcpy(&bv, b + j, sizeof bv);
            dot_w += xv * yv;
            norms_w += av * av + bv * bv;
        }
        using Seq = std::make_integer_sequence<int, Half::lanes>;
        dot_h = lanes_of(dot_w, Seq{}) + lanes_of(dot_w, shift<Half::lanes>(Seq{}));
        norms_h = lanes_of(norms_w, Seq{}) + lanes_of(norms_w, shift<Half::lanes>(Seq{}));
    }
    if (j + Half::lanes <= n) {
        typename Half::type xv, yv, av, bv;
        __builtin_memcpy(&xv, x + j, sizeof xv);
        __builtin_memcpy(&yv, y + j, sizeof yv);
        __builtin_memcpy(&av, a + j, sizeof av);
        __builtin_memcpy(&bv, b + j, sizeof bv);
        dot_h += xv * yv;
        norms_h += av * av + bv * bv;
        j += Half::lanes;
    }
    DotAndNorms<T> out;
    horizontal_sums<T, Half::lanes>(dot_h, norms_h, out.dot, out.norms);
    for (; j < n; ++j) {
        out.dot += x[j] * y[j];
        out.norms += a[j] * a[j] + b[j] * b[j];
    }
    return out;
}

template <class T, class Dim>
SOCIALREC_INLINE DotAndNorms<T> dot_and_norms(const T* a, const T* b, Dim dim) {
    return dot_and_norms(a, b, a, b, dim);
}

template <class T>
struct SumDotAndNorms {
    T dot;     // (x + z) . y
    T norm_x;  // |x|^2
    T norm_y;  // |y|^2
};

// (x + z) . y (x . y when !AddZ; z unused), |x|^2 and |y|^2 in one pass with one lane reduction.
template <bool AddZ, class T, class Dim>
SOCIALREC_INLINE SumDotAndNorms<T> dot_and_two_norms_impl(const T* x, const T* z, const T* y, Dim dim) {
    using Wide = VectorOf<T, kVectorBytes>;
    using Half = VectorOf<T, kVectorBytes / 2>;
    const int n = dim.size();
    int j = 0;
    // One vector of the rows into the three sums (V: the wide or the half-width vector type).
    auto accumulate = [&](auto& dot, auto& nx, auto& ny) {
        using V = std::remove_reference_t<decltype(dot)>;
        V xv, yv;
        __builtin_memcpy(&xv, x + j, sizeof xv);
        __builtin_memcpy(&yv, y + j, sizeof yv);
        V sv = xv;
        if constexpr (AddZ) {
            V zv;
            __builtin_memcpy(&zv, z + j, sizeof zv);
            sv += zv;
        }
        dot += sv * yv;
        nx += xv * xv;
        ny += yv * yv;
        j += int(sizeof(V) / sizeof(T));
    };
    typename Half::type dot_h = {}, nx_h = {}, ny_h = {};
    if (n >= Wide::lanes) {
        typename Wide::type dot_w = {}, nx_w = {}, ny_w = {};
        while (j + Wide::lanes <= n) accumulate(dot_w, nx_w, ny_w);
        using Seq = std::make_integer_sequence<int, Half::lanes>;
        dot_h = lanes_of(dot_w, Seq{}) + lanes_of(dot_w, shift<Half::lanes>(Seq{}));
        nx_h = lanes_of(nx_w, Seq{}) + lanes_of(nx_w, shift<Half::lanes>(Seq{}));
        ny_h = lanes_of(ny_w, Seq{}) + lanes_of(ny_w, shift<Half::lanes>(Seq{}));
    }
    if (j + Half::lanes <= n) accumulate(dot_h, nx_h, ny_h);
    SumDotAndNorms<T> out;
    horizontal_sums<T, Half::lanes>(dot_h, nx_h, out.dot, out.norm_x);
    out.norm_y = horizontal_sum<T, kVectorBytes / 2>(ny_h);
    for (; j < n; ++j) {
        out.dot += (AddZ ? x[j] + z[j] : x[j]) * y[j];
        out.norm_x += x[j] * x[j];
        out.norm_y += y[j] * y[j];
    }
    return out;
}

// (x + z) . y, |x|^2 and |y|^2 in one pass over the rows (SVD++'s prediction q_i . (p_u + z_u) and the two
// penalties of its rating step): one load of each row and one lane reduction, where dot / squared_norm calls
// pay four passes and four reductions.
template <class T, class Dim>
SOCIALREC_INLINE SumDotAndNorms<T> sum_dot_and_norms(const T* x, const T* z, const T* y, Dim dim) {
    return dot_and_two_norms_impl<true>(x, z, y, dim);
}

// x . y, |x|^2 and |y|^2 (in .dot, .norm_x, .norm_y) in one pass: steps whose two rows carry different penalties.
template <class T, class Dim>
SOCIALREC_INLINE SumDotAndNorms<T> dot_and_two_norms(const T* x, const T* y, Dim dim) {
    return dot_and_two_norms_impl<false>(x, static_cast<const T*>(nullptr), y, dim);
}

// The SGD pair update of factor rows p and q with error e (all models' rating steps share it):
//   p <- p + gamma (e q - lambda_p p),   q <- q + gamma (e p_old - lambda_q q)
template <class T, class Dim>
SOCIALREC_INLINE void pair_update(T* p, T* q, T e, T gamma, T lambda_p, T lambda_q, Dim dim) {
    const int n = dim.size();
    int j = 0;
    // Full-width vectors, then one half-width vector (k = 10 on AVX-512: 8 lanes + 2), then scalars.
    auto update = [&](auto tag) {
        using V = typename decltype(tag)::type;
        V x, y;
        std::memcpy(&x, p + j, sizeof x);
        std::memcpy(&y, q + j, sizeof y);
        const V nx = x + gamma * (e * y - lambda_p * x);
        const V ny = y + gamma * (e * x - lambda_q * y);
        std::memcpy(p + j, &nx, sizeof nx);
        std::memcpy(q + j, &ny, sizeof ny);
        j += int(sizeof(V) / sizeof(T));
    };
    using Wide = VectorOf<T, kVectorBytes>;
    using Half = VectorOf<T, kVectorBytes / 2>;
    while (j + Wide::lanes <= n) update(Wide{});
    if (j + Half::lanes <= n) update(Half{});
    for (; j < n; ++j) {
        const T x = p[j], y = q[j];
        p[j] = x + gamma * (e * y - lambda_p * x);
        q[j] = y + gamma * (e * x - lambda_q * y);
    }
}

// Asks for every cache line of [data, data + bytes) ahead of a write (the prefetch of prefetch_row, and of a
// group's records before grouped_pass shuffles them). Never changes a result.
SOCIALREC_INLINE void prefetch_bytes(const void* data, std::size_t bytes) {
    if (bytes == 0) return;
    const auto first = reinterpret_cast<std::uintptr_t>(data) & ~std::uintptr_t(63);
    const auto last = reinterpret_cast<std::uintptr_t>(data) + bytes - 1;
    for (std::uintptr_t line = first; line <= last; line += 64) __builtin_prefetch(reinterpret_cast<const void*>(line), 1);
}

// Asks for every cache line of one row (`dim` values from `row`, whatever its alignment) ahead of an update
// that will write it (sgd.hpp: grid_pass and sampled_pass look a few records ahead). Never changes a result.
template <class T, class Dim>
SOCIALREC_INLINE void prefetch_row(const T* row, Dim dim) {
    prefetch_bytes(row, std::size_t(dim.size()) * sizeof(T));
}

template <class T>
struct GradientNorms {
    T p;  // |g_p|^2
    T q;  // |g_q|^2
};

// The pair update with a step size per row (adaptive schedules, e.g. RPCS in models/biased_mf.hpp):
//   g_p = lambda p - e q,   g_q = lambda q - e p        (old p, q)
//   p <- p - rate_p g_p,    q <- q - rate_q g_q
// returning |g_p|^2 and |g_q|^2, summed in the same pass with one shared lane reduction (as dot_and_norms).
template <class T, class Dim>
SOCIALREC_INLINE GradientNorms<T> scaled_pair_update(T* p, T* q, T e, T rate_p, T rate_q, T lambda, Dim dim) {
    using Wide = VectorOf<T, kVectorBytes>;
    using Half = VectorOf<T, kVectorBytes / 2>;
    const int n = dim.size();
    int j = 0;
    // One vector of the rows: step both, add the squared gradients to the sums (V: wide or half-width).
    auto update = [&](auto& gp_sum, auto& gq_sum) {
        using V = std::remove_reference_t<decltype(gp_sum)>;
        V x, y;
        __builtin_memcpy(&x, p + j, sizeof x);
        __builtin_memcpy(&y, q + j, sizeof y);
        const V gp = lambda * x - e * y, gq = lambda * y - e * x;
        const V nx = x - rate_p * gp, ny = y - rate_q * gq;
        __builtin_memcpy(p + j, &nx, sizeof nx);
        __builtin_memcpy(q + j, &ny, sizeof ny);
        gp_sum += gp * gp;
        gq_sum += gq * gq;
        j += int(sizeof(V) / sizeof(T));
    };
    typename Half::type gp_h = {}, gq_h = {};
    if (n >= Wide::lanes) {
        typename Wide::type gp_w = {}, gq_w = {};
        while (j + Wide::lanes <= n) update(gp_w, gq_w);
        using Seq = std::make_integer_sequence<int, Half::lanes>;
        gp_h = lanes_of(gp_w, Seq{}) + lanes_of(gp_w, shift<Half::lanes>(Seq{}));
        gq_h = lanes_of(gq_w, Seq{}) + lanes_of(gq_w, shift<Half::lanes>(Seq{}));
    }
    if (j + Half::lanes <= n) update(gp_h, gq_h);
    GradientNorms<T> out;
    horizontal_sums<T, Half::lanes>(gp_h, gq_h, out.p, out.q);
    for (; j < n; ++j) {
        const T x = p[j], y = q[j];
        const T gp = lambda * x - e * y, gq = lambda * y - e * x;
        p[j] = x - rate_p * gp;
        q[j] = y - rate_q * gq;
        out.p += gp * gp;
        out.q += gq * gq;
    }
    return out;
}

// y += x with explicit vectors (full width, one half-width vector, scalars), each lane as y[j] + x[j]: the
// row sums of SVD++ / TrustSVD. GCC 12 compiled the plain loop, inlined into a loop over a CSR list of rows,
// as scalar adds through memory (seen: TrustSVD's trustee sum, 10 dependent vaddss per row at k = 10).
template <class T, class Dim>
SOCIALREC_INLINE void add_row(const T* __restrict x, T* __restrict y, Dim dim) {
    const int n = dim.size();
    int j = 0;
    auto add = [&](auto tag) {
        using V = typename decltype(tag)::type;
        V xv, yv;
        __builtin_memcpy(&xv, x + j, sizeof xv);
        __builtin_memcpy(&yv, y + j, sizeof yv);
        yv += xv;
        __builtin_memcpy(y + j, &yv, sizeof yv);
        j += int(sizeof(V) / sizeof(T));
    };
    using Wide = VectorOf<T, kVectorBytes>;
    using Half = VectorOf<T, kVectorBytes / 2>;
    while (j + Wide::lanes <= n) add(Wide{});
    if (j + Half::lanes <= n) add(Half{});
    for (; j < n; ++j) y[j] += x[j];
}

// y = x
template <class T, class Dim>
SOCIALREC_INLINE void copy_row(const T* __restrict x, T* __restrict y, Dim dim) {
    __builtin_memcpy(y, x, std::size_t(dim.size()) * sizeof(T));
}

// y += alpha * x
template <class T, class Dim>
SOCIALREC_INLINE void axpy(T alpha, const T* __restrict x, T* __restrict y, Dim dim) {
#pragma omp simd
    for (int j = 0; j < dim.size(); ++j) y[j] += alpha * x[j];
}

SOCIALREC_KERNELS_END
