// Run-time choice of the kernel variant (simd_dispatch.hpp). The CPU is asked with CPUID directly (and XGETBV,
// whether the OS saves the AVX / AVX-512 registers), not __builtin_cpu_supports, so the same code works with
// GCC, Clang, zig cc and clang-cl. This file is compiled for the baseline: no instruction beyond it runs here.
#include "simd_dispatch.hpp"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#define SOCIALREC_X86_64 1
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace socialrec::bind {
namespace {

#if defined(SOCIALREC_X86_64)
struct CpuidRegs {
    std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(std::uint32_t leaf, std::uint32_t subleaf) {
    CpuidRegs r;
#if defined(_MSC_VER) && !defined(__clang__)
    int out[4];
    __cpuidex(out, int(leaf), int(subleaf));
    r = {std::uint32_t(out[0]), std::uint32_t(out[1]), std::uint32_t(out[2]), std::uint32_t(out[3])};
#else
    __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
#endif
    return r;
}

// XCR0: which register states the OS saves on a context switch (bit 1 SSE, 2 AVX, 5-7 AVX-512).
std::uint64_t xcr0() {
#if defined(_MSC_VER) && !defined(__clang__)
    return _xgetbv(0);
#else
    std::uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (std::uint64_t(hi) << 32) | lo;
#endif
}

struct X86Features {
    bool avx2_fma = false;  // AVX2 + FMA3, with the OS saving the YMM registers
    bool avx512 = false;    // AVX-512 F, VL, BW, DQ, with the OS saving the ZMM registers
};

X86Features x86_features() {
    X86Features f;
    const std::uint32_t max_leaf = cpuid(0, 0).eax;
    if (max_leaf < 7) return f;
    const CpuidRegs l1 = cpuid(1, 0), l7 = cpuid(7, 0);
    const bool osxsave = (l1.ecx >> 27) & 1, avx = (l1.ecx >> 28) & 1, fma = (l1.ecx >> 12) & 1;
    if (!osxsave || !avx) return f;
    const std::uint64_t xcr = xcr0();
    const bool ymm_saved = (xcr & 0x6) == 0x6, zmm_saved = (xcr & 0xe6) == 0xe6;
    const bool avx2 = (l7.ebx >> 5) & 1;
    const bool avx512f = (l7.ebx >> 16) & 1, avx512dq = (l7.ebx >> 17) & 1, avx512bw = (l7.ebx >> 30) & 1,
               avx512vl = (l7.ebx >> 31) & 1;
    f.avx2_fma = ymm_saved && avx2 && fma;
    f.avx512 = f.avx2_fma && zmm_saved && avx512f && avx512dq && avx512bw && avx512vl;
    return f;
}
#endif

struct Variant {
    const char* name;
    const KernelTable& (*table)();
    bool runs;  // this CPU can run it
};

// The compiled variants, narrowest first (the order of the preference, reversed).
std::vector<Variant> compiled_variants() {
    std::vector<Variant> v;
#if defined(SOCIALREC_X86_64)
    const X86Features cpu = x86_features();
#endif
#if defined(SOCIALREC_HAVE_BASELINE)
    v.push_back({"baseline", &kernel_table_baseline, true});
#endif
#if defined(SOCIALREC_HAVE_AVX2)
    v.push_back({"avx2", &kernel_table_avx2, cpu.avx2_fma});
#endif
#if defined(SOCIALREC_HAVE_AVX512)
    v.push_back({"avx512", &kernel_table_avx512, cpu.avx512});
#endif
#if defined(SOCIALREC_HAVE_NATIVE)
    v.push_back({"native", &kernel_table_native, true});  // built for this machine (SOCIALREC_NATIVE=ON)
#endif
    return v;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

}  // namespace

SimdChoice choose_simd(const char* forced) {
    SimdChoice c;
    const std::vector<Variant> variants = compiled_variants();
    for (const auto& v : variants) {
        c.compiled.push_back(v.name);
        if (v.runs) c.supported.push_back(v.name);
    }
    if (forced == nullptr || *forced == '\0') {
        for (auto v = variants.rbegin(); v != variants.rend(); ++v)
            if (v->runs) {
                c.table = &v->table();
                return c;
            }
        c.error = "this CPU can run none of the kernel variants compiled into socialrec (" + joined(c.compiled) +
                  "); rebuild from source (pip install --no-binary socialrec socialrec)";
        return c;
    }
    for (const auto& v : variants)
        if (std::strcmp(v.name, forced) == 0) {
            if (v.runs) {
                c.table = &v.table();
            } else {
                c.error = std::string("SOCIALREC_SIMD=") + forced + ": this CPU cannot run the " + forced +
                          " kernels; valid values here: " + joined(c.supported);
            }
            return c;
        }
    c.error = std::string("SOCIALREC_SIMD=") + forced + " names no kernel variant of this build; valid values here: " +
              joined(c.supported) + " (compiled: " + joined(c.compiled) + ")";
    return c;
}

}  // namespace socialrec::bind
