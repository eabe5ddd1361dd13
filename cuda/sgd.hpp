// The host side of the CUDA SGD driver (mirrors cpp/include/socialrec/sgd.hpp; the device side is sgd.cuh):
// storage types, the once-per-fit shuffle keys and the per-epoch chunk order every pass of cuda/models/ uses.
// Plain C++ (no Python headers: nvcc never sees pybind11).
//
// Rating pass, batch-Hogwild (Xie et al., "CuMF_SGD", HPDC 2017, sec. 4): the records are shuffled once
// per fit (shuffle_keys + a sort done by the caller); every epoch, warps take chunks of 32 consecutive
// records in an order that is a bijection of the chunk index drawn from (seed, epoch), and one warp
// performs one update at a time. Concurrent updates of one row by different warps are not locked (Hogwild,
// Recht et al. NIPS 2011), so results are not bit-reproducible; they reach the CPU model's RMSE (tests/gpu).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace socialrec::cuda {

// How factor rows are stored on the device. Compute is always float32.
enum class Storage : std::int32_t { float32 = 0, float16 = 1 };

// The user-grouped passes (SVD++, TrustSVD, RSTE) keep a user's rows in a warp's registers: factors <= 256.
constexpr std::int32_t kSVDppMaxFactors = 256;

// The arguments every user-grouped pass shares (SVD++'s and TrustSVD's rating pass, TrustSVD's link pass, RSTE):
// the owners in the epoch's order, their groups in CSR form, the owners' factor rows and the pass bookkeeping
// that sgd.cuh run_ordered_pass reads. A pass's Args derives from it and adds its own fields.
struct GroupedPassArgs {
    const std::int32_t* users = nullptr;    // n owners with at least one member, already shuffled
    std::int64_t n = 0;
    const std::int64_t* offsets = nullptr;  // n_users + 1: u's members at items/values[offsets[u] .. [u + 1])
    const std::int32_t* items = nullptr;    // the members: rated items (rating passes), trustees (link pass)
    const float* values = nullptr;          // their values: ratings (r~ in [0, 1] for RSTE), t_uv (link pass)
    void* user_factors = nullptr;           // the owners' rows (p, U)
    std::int32_t factors = 0;               // at most kSVDppMaxFactors
    Storage storage = Storage::float32;
    std::uint64_t pass = 0;
    double* loss = nullptr;
};

// Who runs the passes: the device (the kernels, on a stream), or the host -- every pass's step template runs
// serially over host memory, with the team of one, in the epoch's chunk order (sgd.cuh run_on_host), and the
// loss slots are host memory. The host executor is the fake device of the tests (tests/test_cuda_fake_device.py
// runs the real epoch bindings, pass lists included, on NumPy arrays); settings["executor"] = "host" selects it
// for one epoch call (bindings.hpp def_cuda_epoch). host_interleaved ("host_interleaved") is the host executor
// with a schedule of two racing warps (sgd.cuh run_on_host): the second entry of each pair runs between the first
// one's loads and its first write, so a test can show that no update is lost (issue 25, item 5).
// host_warp ("host_warp") runs each step on 32 host threads, one a lane, with the device's row layout and warp
// collectives (host_warp.hpp): the warp-indexing code of the steps, checked without a GPU (issue 25, item 3).
enum class Executor : std::int32_t { device = 0, host = 1, host_interleaved = 2, host_warp = 3 };

// The executor of the calling thread's passes (Executor::device unless an ExecutorScope says otherwise).
Executor pass_executor();

// True when the passes run on host memory (either host executor).
inline bool host_executor() { return pass_executor() != Executor::device; }

// Sets the calling thread's executor for its lifetime.
class ExecutorScope {
public:
    explicit ExecutorScope(Executor e);
    ~ExecutorScope();
    ExecutorScope(const ExecutorScope&) = delete;
    ExecutorScope& operator=(const ExecutorScope&) = delete;

private:
    Executor previous_;
};

// keys[i] = a 64-bit hash of (seed, i); sorting records by these keys gives the once-per-fit shuffle.
void shuffle_keys(std::uint64_t* keys, std::int64_t n, std::uint64_t seed, cudaStream_t stream);

// Chunk order of one epoch: chunk(t) = (a * t + b) mod chunks, a coprime to chunks (a bijection on
// [0, chunks)). Exposed for tests (module.cpp binds it).
// round_key: the pass's key for the stochastic rounding of float16 rows (rounding.hpp), stream_seed(seed, epoch,
// pass, 2) of the same family (block 1 of the rating pass seeds the once-per-fit shuffle).
struct ChunkOrder {
    std::uint64_t chunks = 0, a = 1, b = 0, round_key = 0;
};
// `pass` is the CPU passes' pass id (socialrec/types.hpp PassId), so that the rating and the link pass of one
// epoch visit their chunks in unrelated orders.
ChunkOrder epoch_chunk_order(std::int64_t n_records, std::uint64_t seed, std::int64_t epoch,
                             std::uint64_t pass = 0);

}  // namespace socialrec::cuda
