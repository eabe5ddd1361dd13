// "Teams" for the math shared by the CUDA kernels and their host-side checks (cuda/als_row.hpp,
// cuda/metrics_row.hpp, the SGD steps of cuda/models/*.hpp). A row of work (one ALS row solve, one user's
// ranking metrics, one SGD update) is done by a team: member rank() of size() handles its share of the vector
// elements; sum() adds one value per member and gives every member the total (sum2/sum4: two or four at
// once); broadcast() gives every member rank 0's value; ballot() gives every member the mask of members whose
// predicate holds (bit = rank; size <= 32 where it is used); sync() orders the members' shared-memory
// accesses; for_each_member() hands a CSR group's entries to every member in order.
//
// The SGD steps also take a row layout ("Slices"): how a member holds its share of a factor row. On the
// device (WarpSlices, cuda/rows.cuh) a lane's share is a register-resident slice of V elements, loaded from
// and stored to float or half rows; on the host (SerialSlices, below) the one member's "slice" is a view of
// the whole float32 row, so that an update lands in memory at once and store() has nothing to do.
//
// SerialTeam and SerialSlices (this file) are a team of one: the host-side check functions (`host_als_*`,
// `host_metrics_*`, `host_*_steps` in socialrec._cuda) run the very same templates through them, serially,
// on NumPy inputs, so that the device math can be compared with the CPU kernels on a machine without a GPU.
// The device teams (one warp, one block) are in cuda/hd_team.cuh. Nothing here names a CUDA type: it
// compiles with any C++17 compiler.
#pragma once
#include <cstdint>

#include "rounding.hpp"

#if defined(__CUDACC__)
#define SOCIALREC_HD __host__ __device__ __forceinline__
// The templates below are instantiated with device-only teams in the kernels and with SerialTeam on the
// host; nvcc checks each instantiation where it is emitted, so the cross-space calls are intended.
#define SOCIALREC_HD_TEMPLATE _Pragma("nv_exec_check_disable")
#define SOCIALREC_UNROLL _Pragma("unroll")
#else
#define SOCIALREC_HD inline
#define SOCIALREC_HD_TEMPLATE
#define SOCIALREC_UNROLL
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
    SOCIALREC_HD void sum2(T&, T&) const {}
    template <class T>
    SOCIALREC_HD void sum4(T&, T&, T&, T&) const {}
    template <class T>
    SOCIALREC_HD T broadcast(T v) const { return v; }
    SOCIALREC_HD std::uint32_t ballot(bool p) const { return p ? 1u : 0u; }
    SOCIALREC_HD void sync() const {}
    // visit(items[e], values[e]) for e in offsets[u] .. offsets[u + 1], in order (values unread and 0 when
    // WithValues is false).
    SOCIALREC_HD_TEMPLATE
    template <bool WithValues = true, class Visit>
    SOCIALREC_HD void for_each_member(const std::int64_t* offsets, const std::int32_t* items, const float* values,
                                      int u, Visit&& visit) const {
        for (std::int64_t e = offsets[u]; e < offsets[std::int64_t(u) + 1]; ++e)
            visit(int(items[e]), WithValues ? values[e] : 0.0f);
    }
};

// A view of n floats in memory: the host's "slice" of a row (all of it).
struct RowView {
    float* x = nullptr;
    int n = 0;
    SOCIALREC_HD int size() const { return n; }
    SOCIALREC_HD float& operator[](int m) const { return x[m]; }
};

// The host layout of float32 rows of k elements (see the top of this file): one slice per row, a view of
// it; temp(j, x) makes x the j-th of kMaxTemps scratch rows (the vectors a step keeps besides its rows, which
// the device keeps in registers).
struct SerialSlices {
    static constexpr int kMaxTemps = 4;
    static constexpr bool kResident = true;  // a slice loaded once stays valid (no reload before an update)
    using Slice = RowView;
    int k = 0;
    float* scratch = nullptr;  // kMaxTemps * k floats
    SOCIALREC_HD int count() const { return 1; }
    SOCIALREC_HD void load(float* matrix, std::int64_t row, int, RowView& x) const { x = {matrix + row * k, k}; }
    SOCIALREC_HD void store(float*, std::int64_t, int, const RowView&) const {}
    // The row += delta (on the device an atomic increment; here the row is changed at once).
    SOCIALREC_HD void add(float* matrix, std::int64_t row, int, const RowView& delta) const {
        for (int j = 0; j < k; ++j) matrix[row * k + j] += delta[j];
    }
    // Writes a loaded row x, which started as x0, as the increment x - x0 (the device's store_change, which keeps
    // other warps' increments made meanwhile): nothing to do here, x is a view of the row.
    SOCIALREC_HD void store_change(float*, std::int64_t, int, const RowView&, const RowView&) const {}
    SOCIALREC_HD void temp(int j, RowView& x) const { x = {scratch + std::int64_t(j) * k, k}; }
};

// A member's copy of a row, widened to float: the host executor's slice (sgd.cuh run_on_host). It owns its
// buffer (plain new/delete, which compile for both sides, so that the step templates stay __host__
// __device__); only the host executor creates one.
struct RowCopy {
    float* x = nullptr;
    int n = 0;
    SOCIALREC_HD RowCopy() {}
    RowCopy(const RowCopy&) = delete;
    RowCopy& operator=(const RowCopy&) = delete;
    SOCIALREC_HD ~RowCopy() { delete[] x; }
    SOCIALREC_HD int size() const { return n; }
    SOCIALREC_HD float& operator[](int m) const { return x[m]; }
    SOCIALREC_HD void resize(int k) {
        if (n == k) return;
        delete[] x;
        x = new float[k];
        n = k;
    }
};

// The host executor's layout of rows of k elements of T (float, or __half where nvcc compiles it): as on the
// device, a step's slice is a float copy of the row, loaded (widened) and stored (rounded once, stochastically
// for half: rounding.hpp, with the pass's `key` and the entry number `entry`, as the device) explicitly, so that
// float16 storage and rows met twice behave as on the device. add() and store_change() write increments, as the
// device's atomics. temp() gives a slice its own buffer.
template <class T>
struct SerialCopySlices {
    static constexpr bool kResident = true;
    using Slice = RowCopy;
    int k = 0;
    std::uint64_t key = 0;    // the pass's rounding key (sgd.hpp ChunkOrder::round_key)
    std::uint64_t entry = 0;  // the entry being stepped (record, user or sample number)
    SOCIALREC_HD int count() const { return 1; }
    SOCIALREC_HD void load(const T* matrix, std::int64_t row, int, RowCopy& x) const {
        x.resize(k);
        const T* r = matrix + row * k;
        for (int j = 0; j < k; ++j) x.x[j] = float(r[j]);
    }
    SOCIALREC_HD void store(T* matrix, std::int64_t row, int, const RowCopy& x) const {
        T* r = matrix + row * k;
        const std::uint64_t h = row_hash(key, entry, row);
        for (int j = 0; j < k; ++j) r[j] = Rounding<T>::store(x.x[j], element_bits(h, j));
    }
    SOCIALREC_HD void add(T* matrix, std::int64_t row, int, const RowCopy& delta) const {
        T* r = matrix + row * k;
        const std::uint64_t h = row_hash(key, entry, row);
        for (int j = 0; j < k; ++j) r[j] = Rounding<T>::store(float(r[j]) + delta.x[j], element_bits(h, j));
    }
    SOCIALREC_HD void store_change(T* matrix, std::int64_t row, int, const RowCopy& x, const RowCopy& x0) const {
        T* r = matrix + row * k;
        const std::uint64_t h = row_hash(key, entry, row);
        for (int j = 0; j < k; ++j)
            r[j] = Rounding<T>::store(float(r[j]) + (x.x[j] - x0.x[j]), element_bits(h, j));
    }
    SOCIALREC_HD void temp(int, RowCopy& x) const { x.resize(k); }
};

}  // namespace socialrec::cuda::hd
