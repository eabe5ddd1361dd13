// The SGD driver: visiting orders, threads, interrupts and the epoch loss. Written once; a model supplies
// only its update step (a functor `double operator()(const Record&)` that applies one observation's update
// and returns that observation's term of the objective, evaluated before the update).
//
// Orders (DESIGN §5; mirrored by socialrec/reference/sgd.py):
//   grid_pass  -- the rating pass. Records live in a B x B grid of user blocks x item blocks. The epoch visits
//                 B strata in an order shuffled with stream (seed, epoch, pass, B*B); stratum s holds the B
//                 blocks (a, (a + s) mod B), which share no user and no item, so they run on any number of
//                 threads with a result identical to running them one after another. Each block's records
//                 are shuffled in place (Fisher-Yates, stream (seed, epoch, pass, a*B + b)) just before the
//                 block is visited, then visited in that order. Loss: per-block sums, added in block order.
//                 Threads run the blocks as OpenMP tasks ordered only by their user and item block.
//   flat_pass  -- passes that cannot be stratified (links, users, samples). The whole list is shuffled in
//                 place with stream (seed, epoch, pass, 0) and visited in that order: by one thread when
//                 deterministic, else cut into contiguous runs that threads take as they free up and run
//                 lock-free (Hogwild, Niu et al. NIPS 2011), which is not bit-reproducible.
//   sampled_pass -- passes whose observations are drawn at random (BPR, SBPR): n samples cut into fixed chunks
//                 of kSampleChunk; chunk c draws its samples from its own stream (seed, epoch, pass, c), so
//                 the samples never depend on the thread count. Deterministic: chunks run in order on one
//                 thread. Otherwise threads take chunks dynamically and update lock-free (Hogwild).
//                 Loss: per-chunk sums, added in chunk order.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include "socialrec/isa.hpp"
#include "socialrec/parallel.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

SOCIALREC_KERNELS_BEGIN

// How many records grid_pass looks ahead to prefetch the parameter rows of (for steps that say how).
constexpr std::int64_t kGridLookahead = 12;

// True when the step has `void prefetch(const RatingRecord&) const`: it touches the rows the update of that
// record will read and write. A block's records are in random order and its rows are loaded once per
// block visit, so without it every update waits for two rows from L3 or memory in turn.
template <class Step, class = void>
struct HasRecordPrefetch : std::false_type {};
template <class Step>
struct HasRecordPrefetch<Step, std::void_t<decltype(std::declval<const Step&>().prefetch(
                                   std::declval<const RatingRecord&>()))>> : std::true_type {};

// Visits first[0 .. n) in order: acc of step(record), prefetching kGridLookahead records ahead when it can.
template <class Step>
SOCIALREC_INLINE double visit_records(const RatingRecord* first, std::int64_t n, const Step& step) {
    double acc = 0.0;
    if constexpr (HasRecordPrefetch<Step>::value) {
        for (std::int64_t r = 0; r < std::min(n, kGridLookahead); ++r) step.prefetch(first[r]);
        for (std::int64_t r = 0; r < n; ++r) {
            if (r + kGridLookahead < n) step.prefetch(first[r + kGridLookahead]);
            acc += step(first[r]);
        }
    } else {
        for (std::int64_t r = 0; r < n; ++r) acc += step(first[r]);
    }
    return acc;
}

template <class Step>
double grid_pass(const RatingGrid& grid, std::uint64_t pass, const PassSettings& settings, const Step& step) {
    const std::int32_t B = grid.blocks;
    const std::uint64_t n_blocks = std::uint64_t(B) * std::uint64_t(B);
    std::vector<std::int32_t> strata(B);
    std::iota(strata.begin(), strata.end(), 0);
    SplitMix64 strata_gen(stream_seed(settings.seed, settings.epoch, pass, n_blocks));
    shuffle(strata.data(), B, strata_gen);

    std::vector<double> block_loss(n_blocks, 0.0);
    std::atomic<bool> stop{false};
    auto visit = [&](std::int64_t id) {
        if (stop.load(std::memory_order_relaxed)) return;
        RatingRecord* first = grid.records + grid.offsets[id];
        const std::int64_t n = grid.offsets[id + 1] - grid.offsets[id];
        SplitMix64 gen(stream_seed(settings.seed, settings.epoch, pass, std::uint64_t(id)));
        shuffle(first, n, gen);
        block_loss[id] = visit_records(first, n, step);
        // Signals are handled by the thread that called fit (OpenMP thread 0), after any block it ran.
        if (thread_id() == 0 && settings.should_stop()) stop.store(true);
    };
    auto block_of = [&](std::int32_t s, std::int32_t a) { return std::int64_t(a) * B + (a + strata[s]) % B; };

    // Small grids run on one thread (tasks cost more than they save under ~32k records per thread); the
    // result does not depend on the count either way.
    const std::int64_t records = grid.offsets[n_blocks];
    const int threads = int(std::min<std::int64_t>({resolve_threads(settings.threads), B, 1 + records / 32768}));
    if (threads <= 1) {
        for (std::int32_t s = 0; s < B; ++s)
            for (std::int32_t a = 0; a < B; ++a) visit(block_of(s, a));
    } else {
        // No barrier between strata: block (a, b) of stratum s waits only for the previous blocks of its user
        // block a and of its item block b (OpenMP task dependences), which is exactly what running the strata
        // one after another guarantees, so the result is the same; a thread that the OS deschedules then
        // holds up only the blocks that need its rows, not the whole stratum.
        std::vector<char> user_token(B), item_token(B);
        char* users = user_token.data();
        char* items = item_token.data();
#pragma omp parallel num_threads(threads)
#pragma omp single
        for (std::int32_t s = 0; s < B; ++s) {
            for (std::int32_t a = 0; a < B; ++a) {
                const std::int64_t id = block_of(s, a);
                const std::int64_t b = id % B;
#pragma omp task firstprivate(id) depend(inout : users[a], items[b])
                visit(id);
            }
        }
    }
    if (stop.load()) throw Interrupted();
    double total = 0.0;
    for (double v : block_loss) total += v;
    return total;
}

// True when the step has `void prefetch(const Record* next, std::int64_t n) const`: before each record,
// flat_pass hands it the records that follow in the same run (n of them, to the end of the chunk), so that it
// can ask for what their updates will read. Never changes a result.
template <class Step, class Record, class = void>
struct HasLookahead : std::false_type {};
template <class Step, class Record>
struct HasLookahead<Step, Record, std::void_t<decltype(std::declval<const Step&>().prefetch(
                                      std::declval<const Record*>(), std::int64_t{}))>> : std::true_type {};

// Visits `list` in a freshly shuffled order; see the header comment. Checks for Ctrl-C every `chunk` records.
// `work` is the pass's size in elementary updates (default: one per record; grouped_pass counts members):
// small passes run on fewer threads, about one per 4096 updates.
template <class Record, class Step>
double flat_pass(const FlatList<Record>& list, std::uint64_t pass, const PassSettings& settings, const Step& step,
                 std::int64_t work = -1) {
    if (list.size <= 0) return 0.0;
    SplitMix64 gen(stream_seed(settings.seed, settings.epoch, pass, 0));
    shuffle(list.records, list.size, gen);

    constexpr std::int64_t chunk = 1 << 16;
    if (work < 0) work = list.size;
    const int threads = settings.deterministic ? 1 : int(std::min<std::int64_t>(resolve_threads(settings.threads),
                                                                                 1 + work / 4096));
    auto visit = [&](std::int64_t r, std::int64_t end) {
        if constexpr (HasLookahead<Step, Record>::value) step.prefetch(list.records + r + 1, end - r - 1);
        return step(list.records[r]);
    };
    double total = 0.0;
    for (std::int64_t begin = 0; begin < list.size; begin += chunk) {
        const std::int64_t end = std::min(list.size, begin + chunk);
        double acc = 0.0;
        if (threads == 1) {
            for (std::int64_t r = begin; r < end; ++r) acc += visit(r, end);
        } else {
            // Threads take runs of `grain` records as they free up (about 32 runs per thread and chunk), not
            // one fixed half each: when another process shares a core, a statically split pass waits for
            // its slowest thread (seen: TrustSVD's 2-thread epoch 24 -> 34 ms at load 1).
            const std::int64_t grain = std::max<std::int64_t>(64, (end - begin) / (32 * threads));
#pragma omp parallel for num_threads(threads) schedule(dynamic, grain) reduction(+ : acc)
            for (std::int64_t r = begin; r < end; ++r) acc += visit(r, end);
        }
        total += acc;
        if (settings.should_stop()) throw Interrupted();
    }
    return total;
}

SOCIALREC_KERNELS_END

SOCIALREC_KERNELS_BEGIN

// True when the step has `void prefetch_group(std::int32_t g, int ahead) const`: it asks for what its visit of
// group g will read first. grouped_pass calls it two groups ahead (ahead = 2: what g alone addresses, such as
// the user's own row or offsets) and again one group ahead (ahead = 1: what those offsets address).
template <class Step, class = void>
struct HasGroupPrefetch : std::false_type {};
template <class Step>
struct HasGroupPrefetch<Step, std::void_t<decltype(std::declval<const Step&>().prefetch_group(std::int32_t{}, 0))>>
    : std::true_type {};

// At most this many members of the next group are prefetched before it is shuffled (its first 2 KiB of
// 12-byte records); the rest of a long group streams in as the shuffle goes.
constexpr std::int64_t kGroupPrefetchMembers = 170;

// One group's visit in grouped_pass: shuffle its members, run the step. The groups are in random order and
// each one's members sit at a random place of a large array, so the visit's first reads miss the cache
// unless asked for ahead: two groups ahead, the group's offsets (and Step::prefetch_group(g, 2)); one group
// ahead, its member records, whose offsets are then at hand (and Step::prefetch_group(g, 1)).
template <class Member, class Step>
struct GroupVisit {
    Member* members;
    const std::int64_t* offsets;
    std::uint64_t pass;
    const PassSettings* settings;
    const Step* step;

    SOCIALREC_INLINE double operator()(std::int32_t g) const {
        Member* first = members + offsets[g];
        const std::int64_t n = offsets[g + 1] - offsets[g];
        SplitMix64 gen(stream_seed(settings->seed, settings->epoch, pass, std::uint64_t(g) + 1));
        shuffle(first, n, gen);
        return (*step)(g, first, n);
    }

    SOCIALREC_INLINE void prefetch(const std::int32_t* next, std::int64_t n) const {
        if (n > 1) {
            __builtin_prefetch(offsets + next[1]);
            __builtin_prefetch(offsets + next[1] + 1);
            if constexpr (HasGroupPrefetch<Step>::value) step->prefetch_group(next[1], 2);
        }
        if (n > 0) {
            const std::int64_t begin = offsets[next[0]];
            const std::int64_t count = std::min(offsets[next[0] + 1] - begin, kGroupPrefetchMembers);
            prefetch_bytes(members + begin, std::size_t(count) * sizeof(Member));
            if constexpr (HasGroupPrefetch<Step>::value) step->prefetch_group(next[0], 1);
        }
    }
};

// A pass over groups (users, with their ratings or trustees as members): the group list is visited as in
// flat_pass; just before group g is visited its members offsets[g] .. offsets[g+1] are shuffled in place with
// stream (seed, epoch, pass, g + 1) (block 0 is the group order's own stream), then step(g, members, n) runs.
template <class Member, class Step>
double grouped_pass(const FlatList<std::int32_t>& groups, Member* members, const std::int64_t* offsets,
                    std::uint64_t pass, const PassSettings& settings, const Step& step) {
    std::int64_t work = 0;  // members of the listed groups: what the thread count should follow
    for (std::int64_t r = 0; r < groups.size; ++r) work += offsets[groups.records[r] + 1] - offsets[groups.records[r]];
    return flat_pass(groups, pass, settings, GroupVisit<Member, Step>{members, offsets, pass, &settings, &step}, work);
}

SOCIALREC_KERNELS_END

SOCIALREC_KERNELS_BEGIN

// Samples per chunk of a sampled_pass (mirrored by reference/sgd.py SAMPLE_CHUNK); a fixed constant, so
// the samples of an epoch are a function of (seed, epoch, pass) only.
constexpr std::int64_t kSampleChunk = 4096;
// How many samples a chunk draws ahead of the one it updates, so that their parameter rows are prefetched.
constexpr int kSampleLookahead = 8;

// Runs `n_samples` observations drawn from the chunks' streams (see the header comment). The step supplies
//   Sample draw(SplitMix64&) const     -- draws one observation; must not read the parameters
//   void prefetch(const Sample&) const -- touches the parameter rows the update will need
//   double update(const Sample&) const -- applies the update, returns the term before it.
// Because draws never read the parameters, drawing kSampleLookahead samples ahead (for the prefetch) visits
// exactly the sequence "draw, update, draw, update, ..." of the reference. Checks for Ctrl-C after each chunk.
template <class Step>
double sampled_pass(std::int64_t n_samples, std::uint64_t pass, const PassSettings& settings, const Step& step) {
    if (n_samples <= 0) return 0.0;
    using Sample = decltype(step.draw(std::declval<SplitMix64&>()));
    const std::int64_t n_chunks = (n_samples + kSampleChunk - 1) / kSampleChunk;
    std::vector<double> chunk_loss(n_chunks, 0.0);
    auto run_chunk = [&](std::int64_t c) {
        SplitMix64 gen(stream_seed(settings.seed, settings.epoch, pass, std::uint64_t(c)));
        const std::int64_t n = std::min(n_samples - c * kSampleChunk, kSampleChunk);
        Sample ahead[kSampleLookahead];
        const std::int64_t first = std::min<std::int64_t>(n, kSampleLookahead);
        for (std::int64_t s = 0; s < first; ++s) {
            ahead[s] = step.draw(gen);
            step.prefetch(ahead[s]);
        }
        double acc = 0.0;
        for (std::int64_t s = 0; s < n; ++s) {
            Sample& slot = ahead[s % kSampleLookahead];
            acc += step.update(slot);
            if (s + kSampleLookahead < n) {
                slot = step.draw(gen);
                step.prefetch(slot);
            }
        }
        chunk_loss[c] = acc;
    };
    const int threads =
        settings.deterministic ? 1 : int(std::min<std::int64_t>(resolve_threads(settings.threads), n_chunks));
    if (threads == 1) {
        for (std::int64_t c = 0; c < n_chunks; ++c) {
            run_chunk(c);
            if (settings.should_stop()) throw Interrupted();
        }
    } else {
        std::atomic<bool> stop{false};
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (std::int64_t c = 0; c < n_chunks; ++c) {
            if (stop.load(std::memory_order_relaxed)) continue;
            run_chunk(c);
            // Signals are handled by the thread that called fit (thread 0 of the team).
            if (thread_id() == 0 && settings.should_stop()) stop.store(true, std::memory_order_relaxed);
        }
        if (stop.load()) throw Interrupted();
    }
    double total = 0.0;
    for (double v : chunk_loss) total += v;
    return total;
}

SOCIALREC_KERNELS_END
