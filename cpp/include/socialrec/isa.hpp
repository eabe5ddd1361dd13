// Instruction-set variants of the kernels.
//
// The hot kernels are compiled once per instruction set (CMakeLists.txt: kernels_avx2, kernels_avx512, ...)
// and chosen at import. Each compilation puts its code in its own inline namespace, so the variants never
// collide at link time (one definition rule) while the kernel headers stay written once.
#pragma once

#ifndef SOCIALREC_ISA
#define SOCIALREC_ISA generic
#endif

#define SOCIALREC_CAT_(a, b) a##b
#define SOCIALREC_CAT(a, b) SOCIALREC_CAT_(a, b)
#define SOCIALREC_ISA_NAMESPACE SOCIALREC_CAT(isa_, SOCIALREC_ISA)
#define SOCIALREC_STR_(a) #a
#define SOCIALREC_STR(a) SOCIALREC_STR_(a)

// Opens `namespace socialrec { inline namespace isa_<variant> {` in kernel headers.
#define SOCIALREC_KERNELS_BEGIN namespace socialrec { inline namespace SOCIALREC_ISA_NAMESPACE {
#define SOCIALREC_KERNELS_END } }

// For the per-observation step functors and vector helpers: the passes call them once per record, and the
// compiler does not always inline them into OpenMP-outlined loops on its own (seen: a call per update).
#if defined(__GNUC__)
#define SOCIALREC_INLINE inline __attribute__((always_inline))
#else
#define SOCIALREC_INLINE inline
#endif
