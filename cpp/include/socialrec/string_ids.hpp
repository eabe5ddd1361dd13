// Numbering of string ids in order of first appearance (Dataset.from_pandas on Arrow string columns, pandas'
// default `str` dtype). The strings are read where Arrow keeps them: one byte buffer and an offsets array
// (string k is data[offsets[k] .. offsets[k + 1])), chunk after chunk, so no Python string is ever made.
//
// An open-addressing hash table (linear probing, power-of-two capacity, at most half full) maps a string to
// its number; each slot keeps the string's 64-bit hash next to its number so that a probe compares bytes only
// when the hashes agree. Ids are short (a few to a few dozen bytes), so the hash reads 8 bytes at a time.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <climits>
#include <string_view>
#include <vector>

namespace socialrec {

// 64-bit hash of a byte string: 8-byte words folded in by multiplication, then MurmurHash3's finaliser
// (fmix64) so that every input bit reaches the low bits the table indexes with.
inline std::uint64_t hash_bytes(const unsigned char* p, std::size_t n) {
    constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio
    std::uint64_t h = n * k;
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * k;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

class StringNumbering {
  public:
    // The number of `s` (hash `h`): its existing one, or the next free one when it is new. `position` (the
    // row it was read from) is recorded for a new string, so that the caller can fetch the distinct ids.
    std::int64_t number(std::string_view s, std::uint64_t h, std::int64_t position) {
        if (2 * (count_ + 1) > slots_.size()) grow();
        const std::uint64_t head = head_of(s);
        const auto len = static_cast<std::uint32_t>(s.size());
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t at = h & mask;; at = (at + 1) & mask) {
            Slot& slot = slots_[at];
            if (slot.id < 0) {  // empty: a new string
                if (count_ == INT32_MAX) throw std::length_error("more than 2^31 - 1 distinct ids");
                slot = Slot{h, head, static_cast<std::int32_t>(count_), len};
                strings_.push_back(s);
                first_.push_back(position);
                return count_++;
            }
            // the hash, the first 8 bytes and the length decide for ids of up to 8 bytes without leaving the
            // slot; longer ones compare their remaining bytes
            if (slot.hash == h && slot.head == head && slot.len == len &&
                (len <= 8 || strings_[static_cast<std::size_t>(slot.id)].substr(8) == s.substr(8)))
                return slot.id;
        }
    }

    // Brings the slot where a string of hash `h` starts its probe into the cache (a hint; see number_strings).
    void prefetch(std::uint64_t h) const {
        if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
    }

    // Rows (positions passed to `number`) where each distinct string first appeared, in numbering order.
    const std::vector<std::int64_t>& first_positions() const { return first_; }

  private:
    struct Slot {
        std::uint64_t hash = 0;
        std::uint64_t head = 0;  // the first 8 bytes, zero-padded
        std::int32_t id = -1;
        std::uint32_t len = 0;
    };

    static std::uint64_t head_of(std::string_view s) {
        std::uint64_t w = 0;
        if (!s.empty()) std::memcpy(&w, s.data(), s.size() < 8 ? s.size() : 8);
        return w;
    }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(old.empty() ? 1024 : 2 * old.size(), Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (const Slot& slot : old) {
            if (slot.id < 0) continue;
            std::size_t at = slot.hash & mask;
            while (slots_[at].id >= 0) at = (at + 1) & mask;
            slots_[at] = slot;
        }
    }

    std::vector<Slot> slots_;
    std::vector<std::string_view> strings_;  // views into the caller's buffers, which outlive the numbering
    std::vector<std::int64_t> first_;
    std::int64_t count_ = 0;
};

// Numbers the `n` strings of one Arrow chunk (offsets of type Offset: int32 for `string`, int64 for
// `large_string`) into codes[0 .. n), continuing `numbering`; `base` is the chunk's first row. Strings are
// hashed a batch ahead and their slots prefetched: the table lookups are random memory reads, and this lets
// a batch's cache misses overlap instead of coming one after another.
template <class Offset>
void number_strings(const Offset* offsets, std::int64_t n, const unsigned char* data, std::int64_t base,
                    StringNumbering& numbering, std::int64_t* codes) {
    constexpr std::int64_t batch = 16;
    std::uint64_t hashes[batch];
    for (std::int64_t start = 0; start < n; start += batch) {
        const std::int64_t stop = start + batch < n ? start + batch : n;
        for (std::int64_t k = start; k < stop; ++k) {
            hashes[k - start] = hash_bytes(data + offsets[k], static_cast<std::size_t>(offsets[k + 1] - offsets[k]));
            numbering.prefetch(hashes[k - start]);
        }
        for (std::int64_t k = start; k < stop; ++k) {
            const std::string_view s(reinterpret_cast<const char*>(data + offsets[k]),
                                     static_cast<std::size_t>(offsets[k + 1] - offsets[k]));
            codes[k] = numbering.number(s, hashes[k - start], base + k);
        }
    }
}

}  // namespace socialrec
