// "Teams" for the math shared by the CUDA kernels and their host-side checks (cuda/als_row.hpp,
// cuda/metrics_row.hpp). A row of work (one ALS row solve, one user's ranking metrics) is done by a team:
// member rank() of size() handles the vector elements j = rank, rank + size, ...; sum() adds one value per
// member and gives every member the total; ballot() gives every member the mask of members whose predicate
// holds (bit = rank; size <= 32 where it is used); sync() orders the members' shared-memory accesses.
//
// SerialTeam (this file) is a team of one: the host-side check functions (`host_als_*`, `host_metrics_*` in
// socialrec._cuda) run the very same templates through it, serially, on NumPy inputs, so that the device
// math can be compared with the CPU kernels on a machine without a GPU. The device teams (one warp, one
// block) are in cuda/hd_team.cuh. Nothing here names a CUDA type: it compiles with any C++17 compiler.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define SOCIALREC_HD __host__ __device__ __forceinline__
// The templates below are instantiated with device-only teams in the kernels and with SerialTeam on the
// host; nvcc checks each instantiation where it is emitted, so the cross-space calls are intended.
#define SOCIALREC_HD_TEMPLATE _Pragma("nv_exec_check_disable")
#else
#define SOCIALREC_HD inline
#define SOCIALREC_HD_TEMPLATE
#endif

namespace socialrec::cuda::hd {

SOCIALREC_HD int popcount(std::uint32_t x) {
#if defined(__CUDA_ARCH__)
    return __popc(x);
#else
    return __builtin_popcount(x);
#endif
}

// Members below `rank` in a ballot mask.
SOCIALREC_HD std::uint32_t lanes_below(int rank) { return rank >= 32 ? 0xffffffffu : (1u << rank) - 1u; }

struct SerialTeam {
    SOCIALREC_HD int rank() const { return 0; }
    SOCIALREC_HD int size() const { return 1; }
    template <class T>
    SOCIALREC_HD T sum(T v) const { return v; }
    template <class T>
    SOCIALREC_HD void sum4(T&, T&, T&, T&) const {}
    SOCIALREC_HD std::uint32_t ballot(bool p) const { return p ? 1u : 0u; }
    SOCIALREC_HD void sync() const {}
};

}  // namespace socialrec::cuda::hd
