// The device SGD driver (mirrors cpp/include/socialrec/sgd.hpp): the pieces every pass of cuda/models/*.cu
// shares, so that a model file holds only its step and its launch.
//
//   for_each_in_order / for_each_record_in_order
//       the batch-Hogwild schedule (Xie et al., "CuMF_SGD", HPDC 2017, sec. 4): warps of a persistent grid
//       take chunks of 32 consecutive entries in the epoch's chunk order (sgd.hpp epoch_chunk_order), the 32
//       lanes read a chunk at once (coalesced) and hand its entries out one by one with shuffles.
//   per_record_kernel, per_user_kernel (launch_per_record, launch_per_user)
//       the kernels of the record passes and of the user-grouped passes: each calls a model's step template
//       (cuda/models/<model>.hpp) with the warp team and the warp's row layout, the host replays
//       (cuda/host_steps.cpp) call the same template with the team of one.
//   grid_for, by_layout, with_slice_width, all_vector_rows
//       launch geometry and the row layout (elements per lane V, resident rows, vector loads).
//   run_ordered_pass
//       the common entry tail: argument checks, zeroed loss, chunk order, float32 / float16 dispatch.
// Included by .cu files only.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "common.cuh"
#include "hd_team.cuh"
#include "host_warp.hpp"
#include "rows.cuh"
#include "sgd.hpp"

namespace socialrec::cuda::detail {

__device__ __forceinline__ int lane_id() { return threadIdx.x % kWarp; }
__device__ __forceinline__ std::uint64_t warp_id() { return (std::uint64_t(blockIdx.x) * kBlock + threadIdx.x) / kWarp; }
__device__ __forceinline__ std::uint64_t warp_count() { return std::uint64_t(gridDim.x) * kBlock / kWarp; }

inline Order order_of(std::int64_t n, std::uint64_t seed, std::int64_t epoch, std::uint64_t pass) {
    const ChunkOrder c = epoch_chunk_order(n, seed, epoch, pass);
    return Order{c.chunks, c.a, c.b, c.round_key};
}

// The chunks of one epoch's order taken by this warp: chunk(first, count) for each, `first` its first entry
// and `count` (1..32) its length. The callers below read and broadcast the entries.
template <class Chunk>
__device__ __forceinline__ void for_each_chunk(std::int64_t n, const Order& order, Chunk&& chunk) {
    for (std::uint64_t t = warp_id(); t < order.chunks; t += warp_count()) {
        const std::int64_t first = std::int64_t(order.chunk(t)) * kWarp;
        chunk(first, int(min(std::int64_t(kWarp), n - first)));
    }
}

// Visits the ids of one epoch's chunk order, a warp per id: every lane calls visit(id, i) for each of the
// chunk's ids ids[i] in turn (user lists of the grouped passes).
template <class Visit>
__device__ __forceinline__ void for_each_in_order(const std::int32_t* __restrict__ ids, std::int64_t n,
                                                  const Order& order, Visit&& visit) {
    const int lane = lane_id();
    for_each_chunk(n, order, [&](std::int64_t first, int count) {
        const int mine = first + lane < n ? ids[first + lane] : 0;
        for (int j = 0; j < count; ++j) visit(__shfl_sync(kFullMask, mine, j), first + j);
    });
}

// The same over (a, b, c) records stored as three arrays: every lane calls visit(a, b, c, i) for each record i
// of the chunk in turn (rating records, trust edges).
template <class Visit>
__device__ __forceinline__ void for_each_record_in_order(const std::int32_t* __restrict__ as,
                                                         const std::int32_t* __restrict__ bs,
                                                         const float* __restrict__ values, std::int64_t n,
                                                         const Order& order, Visit&& visit) {
    const int lane = lane_id();
    for_each_chunk(n, order, [&](std::int64_t first, int count) {
        const std::int64_t idx = first + lane;
        int a = 0, b = 0;
        float c = 0.0f;
        if (idx < n) {
            a = as[idx];
            b = bs[idx];
            c = values[idx];
        }
        for (int j = 0; j < count; ++j)
            visit(__shfl_sync(kFullMask, a, j), __shfl_sync(kFullMask, b, j), __shfl_sync(kFullMask, c, j), first + j);
    });
}

// A pass's rows: k factors, in slices of 32 V elements (V per lane; rows.cuh WarpSlices, which the kernels
// below build from it with the lane).
struct RowShape {
    int k;
    bool full;  // vector accesses (k a multiple of 32 V, rows aligned)
};

// Blocks of a persistent grid over `units` units, about `per_warp` units per warp, at most the resident count.
template <class Kernel>
int grid_for(Kernel kernel, std::uint64_t units, std::uint64_t per_warp) {
    const std::uint64_t per_block = per_warp * (kBlock / kWarp);
    return resident_blocks(kernel, kBlock, std::int64_t((units + per_block - 1) / per_block));
}

// Calls fn.template operator()<V, RESIDENT>() for the row layout of k factors.
template <class Fn>
void by_layout(int k, Fn&& fn) {
    switch (elements_per_lane(k)) {
        case 1: return fn.template operator()<1, true>();
        case 2: return fn.template operator()<2, true>();
        case 4: return fn.template operator()<4, true>();
        case 8: return fn.template operator()<8, true>();
        default: return fn.template operator()<8, false>();
    }
}

inline int slice_width(int k) {
    const int kpl = elements_per_lane(k);
    return kpl > 0 ? kpl : 8;
}

// Calls fn(std::integral_constant<int, V>{}) with V = slice_width(k): the kernel instance to launch.
template <class Fn>
void with_slice_width(int k, Fn&& fn) {
    switch (slice_width(k)) {
        case 1: return fn(std::integral_constant<int, 1>{});
        case 2: return fn(std::integral_constant<int, 2>{});
        case 4: return fn(std::integral_constant<int, 4>{});
        default: return fn(std::integral_constant<int, 8>{});
    }
}

// A host layout that lets another entry run to its end just before this one's first write (the interleaved
// host schedule, sgd.hpp Executor::host_interleaved): `preempt` runs once, then the writes go on as
// SerialCopySlices'.
template <class T>
struct PreemptedSlices : hd::SerialCopySlices<T> {
    using Base = hd::SerialCopySlices<T>;
    std::function<void()>* preempt = nullptr;  // called (and cleared) before the first write
    void yield() const {
        if (preempt && *preempt) {
            const std::function<void()> run = std::move(*preempt);
            *preempt = nullptr;
            run();
        }
    }
    // __host__ __device__ with the exec-space check off (host-only all the same): the steps' __host__ __device__
    // lambdas call them.
    SOCIALREC_HD_TEMPLATE
    template <class M>
    SOCIALREC_HD void store(M* m, std::int64_t row, int s, const hd::RowCopy& x) const {
        yield(), Base::store(m, row, s, x);
    }
    SOCIALREC_HD_TEMPLATE
    template <class M>
    SOCIALREC_HD void add(M* m, std::int64_t row, int s, const hd::RowCopy& d) const {
        yield(), Base::add(m, row, s, d);
    }
    SOCIALREC_HD_TEMPLATE
    template <class M>
    SOCIALREC_HD void store_change(M* m, std::int64_t row, int s, const hd::RowCopy& x, const hd::RowCopy& x0) const {
        yield(), Base::store_change(m, row, s, x, x0);
    }
};

// by_layout's functor for the host_warp executor: the step on 32 lane threads with the device's layout <V, RESIDENT>.
template <class Visit>
struct HostWarpRun {
    const std::vector<std::int64_t>& entries;
    int k;
    std::uint64_t key;
    Visit& visit;
    double* loss_out;
    template <int V, bool RESIDENT>
    void operator()() const {
        *loss_out = hd::run_host_warp<V, RESIDENT>(entries, k, key, visit);
    }
};

// The host executor (sgd.hpp Executor::host): visit(team, rows, i, loss) for the entries i of the epoch's chunk
// order, chunk by chunk, with the team of one and float copies of rows of k elements of T (hd_team.hpp
// SerialCopySlices); the summed terms go to *loss_out (host memory). One "warp" visits every chunk: the device's
// order without its concurrency. Executor::host_warp runs each entry on 32 lane threads (host_warp.hpp) with the
// device's row layout for k. Executor::host_interleaved models two warps racing: the entries are taken in
// pairs of the same order, and the second of a pair runs whole between the first one's loads and its first
// write, the window in which a warp's write can lose another warp's update (the tests of issue 25, item 5).
template <class T, class Visit>
void run_on_host(std::int64_t n, const Order& order, int k, double* loss_out, Visit&& visit) {
    const hd::SerialTeam team;
    std::vector<std::int64_t> entries;
    for (std::uint64_t t = 0; t < order.chunks; ++t) {
        const std::int64_t first = std::int64_t(order.chunk(t)) * kWarp;
        for (std::int64_t i = first; i < std::min(first + kWarp, n); ++i) entries.push_back(i);
    }
    if (pass_executor() == Executor::host_warp) {
        by_layout(k, HostWarpRun<Visit>{entries, k, order.round_key, visit, loss_out});
        return;
    }
    const bool interleaved = pass_executor() == Executor::host_interleaved;
    double loss = 0.0;
    for (std::size_t e = 0; e < entries.size(); e += interleaved ? 2 : 1) {
        const std::int64_t i = entries[e];
        hd::SerialCopySlices<T> rows{k, order.round_key, std::uint64_t(i)};
        if (!interleaved || e + 1 == entries.size()) {
            visit(team, rows, i, loss);
            continue;
        }
        const std::int64_t second = entries[e + 1];
        std::function<void()> preempt = [&] {
            const hd::SerialCopySlices<T> other{k, order.round_key, std::uint64_t(second)};
            visit(team, other, second, loss);
        };
        PreemptedSlices<T> first;
        static_cast<hd::SerialCopySlices<T>&>(first) = rows;
        first.preempt = &preempt;
        visit(team, first, i, loss);
        first.yield();  // an entry that wrote nothing still lets the second run
    }
    *loss_out = loss;
}

// T of a step template's factor pointers (Step::Storage).
template <class Step>
using StorageOf = typename Step::Storage;

// The kernel of a pass with one warp per record (rating records, trust edges): for each record (a, b, c) of the
// epoch's order, step(team, rows, a, b, c) -- a step template of cuda/models/*.hpp over the warp and the row
// layout <V, RESIDENT> -- returns the record's terms; the block's sum goes to *loss_out.
template <class Step, int V, bool RESIDENT>
__global__ void __launch_bounds__(kBlock)
    per_record_kernel(const std::int32_t* __restrict__ as, const std::int32_t* __restrict__ bs,
                      const float* __restrict__ values, std::int64_t n, Step step, RowShape row, Order order,
                      double* loss_out) {
    const int lane = lane_id();
    const hd::WarpTeam team{lane};
    WarpSlices<V, RESIDENT> rows{row.k, row.full, lane, order.round_key};
    double loss = 0.0;
    for_each_record_in_order(as, bs, values, n, order, [&](int a, int b, float c, std::int64_t i) {
        rows.entry = std::uint64_t(i);
        loss += step(team, rows, a, b, c);
    });
    add_block_loss(loss, loss_out);  // lane 0 of each warp holds its warp's sum
}

template <class Step>
struct RecordLaunch {
    const std::int32_t* as;
    const std::int32_t* bs;
    const float* values;
    std::int64_t n;
    const Step& step;
    RowShape row;
    const Order& order;
    std::uint64_t per_warp;
    double* loss;
    const char* name;
    cudaStream_t stream;
    template <int V, bool RESIDENT>
    void operator()() const {
        const auto kernel = per_record_kernel<Step, V, RESIDENT>;
        kernel<<<grid_for(kernel, order.chunks, per_warp), kBlock, 0, stream>>>(as, bs, values, n, step, row, order,
                                                                                 loss);
        check(cudaGetLastError(), name);
    }
};

// Launches per_record_kernel for the row layout of row.k factors on a persistent grid of about `per_warp`
// chunks a warp; `name` names a failed launch.
template <class Step>
void launch_per_record(const std::int32_t* as, const std::int32_t* bs, const float* values, std::int64_t n,
                       const Step& step, const RowShape& row, const Order& order, std::uint64_t per_warp,
                       double* loss, const char* name, cudaStream_t stream) {
    if (host_executor())
        return run_on_host<StorageOf<Step>>(n, order, row.k, loss, [&](const auto& team, const auto& rows,
                                                                      std::int64_t i, double& sum) {
            sum += step(team, rows, as[i], bs[i], values[i]);
        });
    by_layout(row.k, RecordLaunch<Step>{as, bs, values, n, step, row, order, per_warp, loss, name, stream});
}

// The kernel of a pass with one warp per listed user (the grouped passes, the mean-pull pass): for each user u
// of the epoch's order, step.group(team, rows, u, loss) -- a step template of cuda/models/*.hpp over the warp
// and the row layout <V, RESIDENT> -- steps u's group and adds its terms to the lane's loss; the block's sum
// goes to *loss_out.
template <class Step, int V, bool RESIDENT>
__global__ void __launch_bounds__(kBlock) per_user_kernel(const std::int32_t* __restrict__ users, std::int64_t n,
                                                          Step step, RowShape row, Order order, double* loss_out) {
    const int lane = lane_id();
    const hd::WarpTeam team{lane};
    WarpSlices<V, RESIDENT> rows{row.k, row.full, lane, order.round_key};
    double loss = 0.0;
    for_each_in_order(users, n, order, [&](const int u, std::int64_t i) {
        rows.entry = std::uint64_t(i);
        step.group(team, rows, u, loss);
    });
    add_block_loss(loss, loss_out);
}

template <class Step, class Args>
struct UserLaunch {
    const Args& a;
    const Step& step;
    RowShape row;
    const Order& order;
    const char* name;
    cudaStream_t stream;
    template <int V, bool RESIDENT>
    void operator()() const {
        const auto kernel = per_user_kernel<Step, V, RESIDENT>;
        kernel<<<grid_for(kernel, order.chunks, 2), kBlock, 0, stream>>>(a.users, a.n, step, row, order, a.loss);
        check(cudaGetLastError(), name);
    }
};

// Launches per_user_kernel over the pass's users a.users[0 .. a.n) with the row layout `row`, its loss to a.loss;
// `name` names a failed launch. A user costs a few rows per member: about 2 users a warp. AnyLength: the step
// handles rows of any length slice by slice (the mean-pull step); otherwise it keeps rows resident across the
// group (factors <= kSVDppMaxFactors, check_grouped_pass) and only resident layouts are compiled.
template <bool AnyLength = false, class Step, class Args>
void launch_per_user(const Args& a, const Step& step, const RowShape& row, const Order& order, const char* name,
                     cudaStream_t stream) {
    if (host_executor())
        return run_on_host<StorageOf<Step>>(a.n, order, row.k, a.loss, [&](const auto& team, const auto& rows,
                                                                          std::int64_t i, double& sum) {
            step.group(team, rows, a.users[i], sum);
        });
    const UserLaunch<Step, Args> launch{a, step, row, order, name, stream};
    if constexpr (AnyLength)
        by_layout(row.k, launch);
    else
        with_slice_width(row.k, [&](auto v) { launch.template operator()<decltype(v)::value, true>(); });
}

// The checks of every user-grouped pass's entry point (sgd.hpp GroupedPassArgs): the owners' rows fit a warp's
// registers (factors <= kSVDppMaxFactors) and, when there is work, the groups' and the owners' pointers are set.
// `what` names the pass; the pass checks its own pointers.
inline void check_grouped_pass(const GroupedPassArgs& a, const char* what) {
    if (a.factors > kSVDppMaxFactors)
        throw std::invalid_argument(std::string(what) + " supports at most 256 factors");
    if (a.n > 0 && (!a.users || !a.offsets || !a.items || !a.values || !a.user_factors))
        throw std::invalid_argument(std::string(what) + ": null group or user factor pointer");
}

template <class T>
bool all_vector_rows(int k, std::initializer_list<const void*> ptrs) {
    for (const void* p : ptrs)
        if (!vector_rows<T>(p, k, slice_width(k))) return false;
    return true;
}

// Checks a pass's sizes and zeroes its loss slot.
inline void begin_pass(double* loss, const char* name, std::int32_t factors, std::int64_t n, cudaStream_t stream) {
    if (n < 0) throw std::invalid_argument(std::string(name) + ": negative number of records");
    if (factors <= 0) throw std::invalid_argument(std::string(name) + ": factors must be positive");
    if (loss == nullptr) throw std::invalid_argument(std::string(name) + ": null loss buffer");
    if (host_executor())
        *loss = 0.0;
    else
        check(cudaMemsetAsync(loss, 0, sizeof(double), stream), "cudaMemsetAsync(loss)");
}

template <class T>
struct StorageTag {
    using type = T;
};

// Calls fn(StorageTag<T>{}) with T the factors' storage type.
template <class Fn>
void with_storage(Storage storage, Fn&& fn) {
    if (storage == Storage::float16)
        fn(StorageTag<__half>{});
    else
        fn(StorageTag<float>{});
}

// The common tail of an ordered pass's entry point: zero the loss, then, unless there is nothing to do,
// launch(StorageTag<T>{}, order) with T the factors' storage type and the epoch's chunk order.
template <class Args, class Launch>
void run_ordered_pass(const Args& a, const char* name, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream,
                      Launch launch) {
    begin_pass(a.loss, name, a.factors, a.n, stream);
    if (a.n == 0) return;
    const Order order = order_of(a.n, seed, epoch, a.pass);
    with_storage(a.storage, [&](auto tag) { launch(tag, order); });
}

}  // namespace socialrec::cuda::detail
