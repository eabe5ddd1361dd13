// Stochastic rounding of float16 storage (issue 25, item 6). Storing a float32 result into a half row rounds it to
// one of the two half values around it; round-to-nearest drops every change smaller than half an ulp, so a
// weight decay of ~2e-5 against a half ulp of ~1e-3 (values near 1) vanished at every update. Stochastic
// rounding picks the upper value with probability (x - down) / (up - down), so the stored value is x in
// expectation and small steps accumulate (Gupta et al., "Deep Learning with Limited Numerical Precision",
// ICML 2015, sec. 3). The probability comes from a counter-based hash of the pass's rounding key (drawn from the
// same stream family as the epoch's visiting order, sgd.hpp ChunkOrder::round_key), the entry being stepped, the
// row and the element, so that the device and its host replay round alike and a run is reproducible.
//
// Self-contained (`__host__ __device__` under nvcc, plain inline otherwise): hd_team.hpp's host layouts and
// rows.cuh's device layouts both include it. float storage is stored as is.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#include <cuda_fp16.h>
#define SOCIALREC_ROUND_HD __host__ __device__ __forceinline__
#else
#define SOCIALREC_ROUND_HD inline
#endif

namespace socialrec::cuda::hd {

constexpr std::uint64_t kGolden64 = 0x9E3779B97F4A7C15ULL;

// SplitMix64's finaliser (rng.hpp splitmix64_mix).
SOCIALREC_ROUND_HD std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// The rounding hash of one stepped row: a 64-bit value per (key, entry, row); element f of the row then uses
// element_bits(row_hash, f).
SOCIALREC_ROUND_HD std::uint64_t row_hash(std::uint64_t key, std::uint64_t entry, std::int64_t row) {
    return mix64(key + (entry + 1) * kGolden64 + std::uint64_t(row) * 0xD1B54A32D192ED03ULL);
}
SOCIALREC_ROUND_HD std::uint32_t element_bits(std::uint64_t hash, int f) {
    std::uint32_t x = std::uint32_t(hash >> 32) ^ (std::uint32_t(hash) + std::uint32_t(f) * 0x9E3779B9u);
    x ^= x >> 16;  // a 32-bit finaliser ("lowbias32", C. Wellons)
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    return x ^ (x >> 16);
}

// The stored value of x in storage T with random bits `bits`: x itself for float.
template <class T>
struct Rounding {
    SOCIALREC_ROUND_HD static T store(float x, std::uint32_t) { return T(x); }
};

#if defined(__CUDACC__)
// float -> half, stochastically: `down` is x rounded toward zero, `up` the next half away from zero; up with
// probability (|x| - |down|) / (|up| - |down|) (24 of the random bits). A value beyond the largest half saturates
// at +-65504 (up is then infinite: probability 0); NaN and infinities pass through.
SOCIALREC_ROUND_HD __half stochastic_half(float x, std::uint32_t bits) {
    const __half down = __float2half_rz(x);
    const __half_raw raw = down;
    if ((raw.x & 0x7fffu) >= 0x7c00u) return down;
    __half_raw next = raw;
    next.x = static_cast<unsigned short>(raw.x + 1u);  // one ulp further from zero (same sign)
    const float lo = fabsf(__half2float(down)), hi = fabsf(__half2float(__half(next)));
    const float p = (fabsf(x) - lo) / (hi - lo);
    return float(bits >> 8) * 0x1p-24f < p ? __half(next) : down;
}

template <>
struct Rounding<__half> {
    SOCIALREC_ROUND_HD static __half store(float x, std::uint32_t bits) { return stochastic_half(x, bits); }
};
#endif

}  // namespace socialrec::cuda::hd
