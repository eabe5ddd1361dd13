// The table of hot kernels of one instruction-set variant. cpp/src/kernels.cpp fills one table per variant
// (compiled with that variant's flags); the bindings pick the widest variant the CPU supports at import.
//
// Adding a kernel: write `template <class T> double name(const Args<T>&, const PassSettings&)` in a model
// header, include the header below, add one line X(name, Args) to SOCIALREC_KERNEL_LIST, and add
// cpp/src/kernels/<model>.cpp with SOCIALREC_INSTANTIATE_KERNEL(name, Args). Each such file is compiled once
// per variant, so models build in parallel and a change rebuilds one model only.
#pragma once
#include "socialrec/models/als.hpp"
#include "socialrec/models/als_blocks.hpp"
#include "socialrec/models/biased_mf.hpp"
#include "socialrec/models/svdpp.hpp"
#include "socialrec/models/trustsvd.hpp"
#include "socialrec/models/bpr.hpp"
#include "socialrec/models/sbpr.hpp"
#include "socialrec/models/rste.hpp"
#include "socialrec/models/social_als.hpp"
#include "socialrec/models/social_mf.hpp"
#include "socialrec/models/sorec.hpp"
#include "socialrec/models/soreg.hpp"
#include "socialrec/models/trustmf.hpp"
#include "socialrec/topk_args.hpp"
#include "socialrec/types.hpp"

#define SOCIALREC_KERNEL_LIST(X) \
    X(biased_mf_epoch, BiasedMFArgs) \
    X(svdpp_epoch, SVDppArgs) \
    X(trustsvd_epoch, TrustSVDArgs) \
    X(bpr_epoch, BPRArgs) \
    X(sbpr_epoch, SBPRArgs) \
    X(soreg_epoch, SoRegArgs) \
    X(rste_epoch, RSTEArgs) \
    X(trustmf_epoch, TrustMFArgs) \
    X(sorec_epoch, SoRecArgs) \
    X(social_mf_epoch, SocialMFArgs) \
    X(als_epoch, ALSArgs) \
    X(social_als_epoch, SocialALSArgs) \
    X(als_block_solve, ALSBlockArgs) \
    X(als_gramian_partials, ALSGramianArgs)

namespace socialrec {

struct KernelTable {
    const char* isa;
#define SOCIALREC_DECLARE_ENTRY(name, Args)                        \
    double (*name##_f32)(const Args<float>&, const PassSettings&); \
    double (*name##_f64)(const Args<double>&, const PassSettings&);
    SOCIALREC_KERNEL_LIST(SOCIALREC_DECLARE_ENTRY)
#undef SOCIALREC_DECLARE_ENTRY
    // The top-n scan of recommend()/rank (socialrec/topk.hpp): a variant too, for its vector compare.
    void (*topk_select_f32)(const TopKArgs<float>&);
    void (*topk_select_f64)(const TopKArgs<double>&);
};

// Explicit instantiation of one kernel for float and double, in the current variant's namespace.
#define SOCIALREC_INSTANTIATE_KERNEL(name, Args)                                                   \
    namespace socialrec {                                                                         \
    inline namespace SOCIALREC_ISA_NAMESPACE {                                                    \
    template double name<float>(const Args<float>&, const PassSettings&);                         \
    template double name<double>(const Args<double>&, const PassSettings&);                       \
    }                                                                                             \
    }

// One per variant (CMakeLists.txt): baseline (x86-64: SSE2; aarch64: NEON; others: what the compiler
// assumes), avx2 (AVX2 + FMA), avx512 (F, VL, BW, DQ) and native (SOCIALREC_NATIVE=ON: -march=native).
const KernelTable& kernel_table_baseline();
const KernelTable& kernel_table_avx2();
const KernelTable& kernel_table_avx512();
const KernelTable& kernel_table_native();

}  // namespace socialrec
