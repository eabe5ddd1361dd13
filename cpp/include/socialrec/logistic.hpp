// The logistic link g(x) = 1 / (1 + exp(-x)) of the rating models defined on [0, 1] ratings (DESIGN §4).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "socialrec/isa.hpp"

SOCIALREC_KERNELS_BEGIN

template <class T>
SOCIALREC_INLINE T logistic(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

// exp(x) in float without a call into libm: Cephes' expf (S. L. Moshier, Cephes Math Library, expf.c).
// x = n ln2 + r with |r| <= ln2 / 2 (ln2 = C1 - C2, C1 with few enough bits that n C1 is exact), then
// exp(r) = 1 + r + r^2 P(r) with Cephes' degree-5 P, times 2^n written into the exponent bits. Relative error
// at most 8.4e-8 (1.4 ulp, measured over [-87, 88]) against libm's 0.5 ulp. x is clamped to [-87, 88], where
// exp stays a normal float (beyond it the logistic is 0 or 1 to within 1e-38); a NaN stays NaN (both
// comparisons are false for it), so divergence is still reported.
// Not a general replacement for libm's expf: its polynomial is a longer chain of dependent operations than
// libm's table lookup, so a step that waits on its one exp got slower with it (SoRec +4%, RSTE +30% per
// epoch, bench/README.md). It pays where two independent steps can overlap their exps (TrustMF's two models).
SOCIALREC_INLINE float exp_inline(float x) {
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    // n = round(x / ln2): adding and subtracting 1.5 * 2^23 rounds to the nearest integer (|x / ln2| < 2^22).
    constexpr float kRound = 12582912.0f;
    const float n = (x * 1.44269504088896341f + kRound) - kRound;
    const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = (p * (r * r) + r) + 1.0f;
    // 2^n for n in [-126, 127] (the clamp keeps it there): the biased exponent n + 127 in bits 23..30. A NaN
    // x takes n = 0 here (converting NaN to an integer is undefined); y is NaN already.
    const std::int32_t n_int = n == n ? static_cast<std::int32_t>(n) : 0;
    const std::uint32_t bits = std::uint32_t(n_int + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

// The logistic with exp_inline in float; float64 keeps libm's exp, which NumPy's np.exp matches to the last
// bit, so float64 fits stay equal to the reference to 1e-10.
template <class T>
SOCIALREC_INLINE T logistic_inline_exp(T x) {
    if constexpr (sizeof(T) == sizeof(float)) {
        return T(1) / (T(1) + exp_inline(-x));
    } else {
        return logistic(x);
    }
}

SOCIALREC_KERNELS_END
