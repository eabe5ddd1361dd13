// Plain data shared by the kernels, the bindings and the CUDA back-end: records, views, pass settings.
// Nothing here depends on Python or on the instruction-set variant.
#pragma once
#include <cstdint>
#include <stdexcept>

namespace socialrec {

// One observation of a rating pass. Records of a grid block are stored together (array of structs), which is
// what makes the SGD pass cache-friendly: a block's factor rows and records stay in L2 (DESIGN §9a).
struct RatingRecord {
    std::int32_t user;
    std::int32_t item;
    float value;
};
static_assert(sizeof(RatingRecord) == 12, "RatingRecord must be packed as 3 x 4 bytes (NumPy mirrors it)");

// One trust edge u -> v with its value (t_uv) for link passes; NumPy mirrors it as _engine.EDGE_DTYPE.
struct EdgeRecord {
    std::int32_t src;
    std::int32_t dst;
    float value;
};
static_assert(sizeof(EdgeRecord) == 12, "EdgeRecord must be packed as 3 x 4 bytes (NumPy mirrors it)");

// A user-block x item-block grid of rating records: block (a, b) holds records offsets[a*B+b] .. offsets[a*B+b+1].
struct RatingGrid {
    RatingRecord* records;
    const std::int64_t* offsets;  // B*B + 1 entries
    std::int32_t blocks;          // B
};

// A flat list of records visited in one shuffled order (trust edges, sampled triples, user lists...).
template <class Record>
struct FlatList {
    Record* records;
    std::int64_t size;
};

// Called between chunks of work on the calling thread; returns true when the caller asked to stop (Ctrl-C).
using PollFn = bool (*)(void*);

struct PassSettings {
    std::uint64_t seed = 0;
    std::int64_t epoch = 0;
    std::int32_t threads = 1;
    bool deterministic = true;   // single visiting order for passes that cannot be stratified
    PollFn poll = nullptr;       // null: never interrupted
    void* poll_context = nullptr;

    bool should_stop() const { return poll != nullptr && poll(poll_context); }
};

// Thrown by a pass when should_stop() said so; the binding turns it into the pending Python exception.
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};

// Pass identifiers: part of every stream seed, so that two passes of one epoch never share a stream.
enum PassId : std::uint64_t {
    kRatingPass = 0,
    kLinkPass = 1,
    kUserPass = 2,
    kSamplePass = 3,
    kTrusteePass = 4,
};

}  // namespace socialrec
