// The random streams that fix every visiting order (DESIGN §5), mirrored by socialrec/reference/_rng.py.
//
//   SplitMix64 (Steele, Lea, Flood, OOPSLA 2014): state += 0x9E3779B97F4A7C15; output = mix(state).
//   stream_seed(seed, epoch, pass, block) chains four SplitMix64 outputs, so that every (epoch, pass, block)
//   gets an independent stream that does not depend on the thread that runs it.
//   shuffle(): Fisher-Yates from the back, j = below(i + 1) = (next() * (i + 1)) >> 64.
#pragma once
#include <cstdint>
#include <utility>

namespace socialrec {

constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

inline std::uint64_t splitmix64_mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

struct SplitMix64 {
    std::uint64_t state;
    explicit SplitMix64(std::uint64_t seed) : state(seed) {}
    std::uint64_t next() {
        state += kGoldenGamma;
        return splitmix64_mix(state);
    }
    // Uniform integer in [0, n): the high word of next() * n (Lemire, ACM TOMACS 2019, without the rejection
    // step; the bias is below n / 2^64). One multiply instead of a division: the shuffles run every epoch.
    std::uint64_t below(std::uint64_t n) {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }
    // Uniform double in [0, 1) from the top 53 bits.
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
};

inline std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t pass, std::uint64_t block) {
    std::uint64_t s = SplitMix64(seed).next();
    s = SplitMix64(s ^ epoch).next();
    s = SplitMix64(s ^ pass).next();
    return SplitMix64(s ^ block).next();
}

template <class T>
void shuffle(T* first, std::int64_t n, SplitMix64& gen) {
    for (std::int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(i) + 1));
        std::swap(first[i], first[j]);
    }
}

}  // namespace socialrec
