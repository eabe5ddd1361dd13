// A warp of 32 lanes emulated on the host (issue 25, item 3): the host executor's "host_warp" schedule runs each
// step template with 32 host threads, one a lane, so that the warp-indexing parts of the steps -- which lane holds
// which elements of a row (rows.cuh WarpSlices), the butterfly sums, the broadcasts from lane 0, the bias writes
// by lane 0, the loss taken from lane 0 -- run as on the device, without a GPU. SerialTeam (hd_team.hpp), a team
// of one holding whole rows, hides mistakes in exactly those parts.
//
// HostWarpTeam mirrors hd_team.cuh WarpTeam: sum/sum2/sum4 compute the xor butterfly of warp_allreduce (every lane
// adds v[lane] + v[lane ^ offset] level by level, so the totals are those of the device, bit for bit),
// broadcast() gives lane 0's value, ballot() the mask of lanes whose predicate holds, for_each_member() visits a
// CSR group in order (the device reads it 32 at a time and shuffles the same values out). HostLaneSlices mirrors
// WarpSlices: lane `lane` holds elements lane*V .. lane*V + V - 1 of each slice of 32 V elements of a row; stores
// round float16 stochastically with the device's bits (rounding.hpp); add() needs no atomics (lanes hold disjoint
// elements, and one warp runs at a time). Host-only (included by sgd.cuh, run by sgd.cuh run_on_host); the members
// are marked __host__ __device__ with the exec-space check off only because the steps' __host__ __device__ lambdas
// call them: nothing here runs on a device.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "hd_team.hpp"  // SOCIALREC_HD, SOCIALREC_HD_TEMPLATE
#include "rounding.hpp"

namespace socialrec::cuda::hd {

constexpr int kHostWarp = 32;

// A reusable barrier for the 32 lane threads (C++17 has no std::barrier).
class LaneBarrier {
public:
    void wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        const std::uint64_t generation = generation_;
        if (++arrived_ == kHostWarp) {
            arrived_ = 0;
            ++generation_;
            ready_.notify_all();
        } else {
            ready_.wait(lock, [&] { return generation_ != generation; });
        }
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    int arrived_ = 0;
    std::uint64_t generation_ = 0;
};

// What the lanes exchange: up to four values of up to 8 bytes a lane.
struct HostWarpShared {
    unsigned char slots[4][kHostWarp][8];
    LaneBarrier barrier;
};

struct HostWarpTeam {
    int lane;
    HostWarpShared* shared;
    SOCIALREC_HD int rank() const { return lane; }
    SOCIALREC_HD int size() const { return kHostWarp; }

    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD T sum(T v) const {
        T values[1] = {v};
        butterfly<T, 1>(values);
        return values[0];
    }
    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD void sum2(T& a, T& b) const {
        T values[2] = {a, b};
        butterfly<T, 2>(values);
        a = values[0];
        b = values[1];
    }
    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD void sum4(T& a, T& b, T& c, T& d) const {
        T values[4] = {a, b, c, d};
        butterfly<T, 4>(values);
        a = values[0];
        b = values[1];
        c = values[2];
        d = values[3];
    }
    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD T broadcast(T v) const {
        T all[kHostWarp];
        exchange<T>(v, 0, all);
        return all[0];
    }
    SOCIALREC_HD_TEMPLATE
    template <int = 0>
    SOCIALREC_HD std::uint32_t ballot(bool p) const {
        int all[kHostWarp];
        exchange<int>(p ? 1 : 0, 0, all);
        std::uint32_t mask = 0;
        for (int l = 0; l < kHostWarp; ++l) mask |= std::uint32_t(all[l] != 0) << l;
        return mask;
    }
    SOCIALREC_HD_TEMPLATE
    template <int = 0>
    SOCIALREC_HD void sync() const { shared->barrier.wait(); }
    SOCIALREC_HD_TEMPLATE
    template <bool WithValues = true, class Visit>
    SOCIALREC_HD void for_each_member(const std::int64_t* offsets, const std::int32_t* items, const float* values, int u,
                         Visit&& visit) const {
        for (std::int64_t e = offsets[u]; e < offsets[std::int64_t(u) + 1]; ++e)
            visit(int(items[e]), WithValues ? values[e] : 0.0f);
    }

private:
    // Every lane's value of slot `s` into all[], after every lane has written it; the second wait keeps a lane
    // from overwriting the slot before every lane has read it.
    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD void exchange(T v, int s, T (&all)[kHostWarp]) const {
        static_assert(sizeof(T) <= 8, "a lane exchanges at most 8 bytes a slot");
        std::memcpy(shared->slots[s][lane], &v, sizeof(T));
        shared->barrier.wait();
        for (int l = 0; l < kHostWarp; ++l) std::memcpy(&all[l], shared->slots[s][l], sizeof(T));
        shared->barrier.wait();
    }
    // The device's warp_allreduce on N chains: v[m] += v[m ^ offset] for offset 16, 8, 4, 2, 1.
    SOCIALREC_HD_TEMPLATE
    template <class T, int N>
    SOCIALREC_HD void butterfly(T (&values)[N]) const {
        T all[N][kHostWarp];
        for (int c = 0; c < N; ++c) std::memcpy(shared->slots[c][lane], &values[c], sizeof(T));
        shared->barrier.wait();
        for (int c = 0; c < N; ++c)
            for (int l = 0; l < kHostWarp; ++l) std::memcpy(&all[c][l], shared->slots[c][l], sizeof(T));
        shared->barrier.wait();
        for (int c = 0; c < N; ++c) {
            for (int offset = kHostWarp / 2; offset > 0; offset >>= 1) {
                T next[kHostWarp];
                for (int m = 0; m < kHostWarp; ++m) next[m] = all[c][m] + all[c][m ^ offset];
                for (int m = 0; m < kHostWarp; ++m) all[c][m] = next[m];
            }
            values[c] = all[c][lane];
        }
    }
};

// A lane's V elements of a row slice (rows.cuh RegSlice).
template <int V>
struct LaneSlice {
    float v[V];
    SOCIALREC_HD static constexpr int size() { return V; }
    SOCIALREC_HD float& operator[](int m) { return v[m]; }
    SOCIALREC_HD const float& operator[](int m) const { return v[m]; }
};

// rows.cuh WarpSlices on host memory, for one lane.
template <int V, bool RESIDENT>
struct HostLaneSlices {
    static constexpr bool kResident = RESIDENT;
    using Slice = LaneSlice<V>;
    int k = 0;
    int lane = 0;
    std::uint64_t key = 0;
    std::uint64_t entry = 0;
    SOCIALREC_HD int count() const { return RESIDENT ? 1 : (k + kHostWarp * V - 1) / (kHostWarp * V); }
    SOCIALREC_HD int element(int s, int j) const { return s * kHostWarp * V + lane * V + j; }
    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD void load(const T* matrix, std::int64_t row, int s, Slice& x) const {
        for (int j = 0; j < V; ++j) {
            const int f = element(s, j);
            x.v[j] = f < k ? float(matrix[row * k + f]) : 0.0f;
        }
    }
    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD void store(T* matrix, std::int64_t row, int s, const Slice& x) const {
        const std::uint64_t h = row_hash(key, entry, row);
        for (int j = 0; j < V; ++j) {
            const int f = element(s, j);
            if (f < k) matrix[row * k + f] = Rounding<T>::store(x.v[j], element_bits(h, f));
        }
    }
    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD void add(T* matrix, std::int64_t row, int s, const Slice& delta) const {
        const std::uint64_t h = row_hash(key, entry, row);
        for (int j = 0; j < V; ++j) {
            const int f = element(s, j);
            if (f < k)
                matrix[row * k + f] = Rounding<T>::store(float(matrix[row * k + f]) + delta.v[j], element_bits(h, f));
        }
    }
    SOCIALREC_HD_TEMPLATE
    template <class T>
    SOCIALREC_HD void store_change(T* matrix, std::int64_t row, int s, const Slice& x, const Slice& x0) const {
        Slice delta;
        for (int j = 0; j < V; ++j) delta.v[j] = x.v[j] - x0.v[j];
        add(matrix, row, s, delta);
    }
    SOCIALREC_HD void temp(int, Slice&) const {}
};

// Runs visit(team, rows, i, loss) for each entry i of `entries`, in order, on 32 lane threads with the layout
// HostLaneSlices<V, RESIDENT> of rows of k elements; returns lane 0's summed terms (the device's loss convention,
// sgd.cuh add_block_loss). The steps do not throw (their arguments are checked before the pass).
template <int V, bool RESIDENT, class Visit>
double run_host_warp(const std::vector<std::int64_t>& entries, int k, std::uint64_t key, Visit&& visit) {
    HostWarpShared shared;
    double losses[kHostWarp] = {};
    std::vector<std::thread> lanes;
    for (int lane = 0; lane < kHostWarp; ++lane)
        lanes.emplace_back([&, lane] {
            const HostWarpTeam team{lane, &shared};
            HostLaneSlices<V, RESIDENT> rows{k, lane, key, 0};
            for (const std::int64_t i : entries) {
                rows.entry = std::uint64_t(i);
                visit(team, rows, i, losses[lane]);
                shared.barrier.wait();  // this entry's writes before the next entry's loads
            }
        });
    for (auto& t : lanes) t.join();
    return losses[0];
}

}  // namespace socialrec::cuda::hd
