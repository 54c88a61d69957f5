// event.h: the decoded event and the string pool: what ingestion produces and executors consume.
#pragma once

#include "compiler/ir/value.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map> // not used here: kept for the includers that relied on it
#include <vector>

namespace ethogram::ir {

constexpr uint32_t kNoString = UINT32_MAX;

/// Interns strings to dense 32-bit ids so that executors compare ids, never text. Ids are stable for the
/// pool's life, and so are the views (the text lives in chunks that never move). Not thread-safe: one pool
/// per pipeline (the parallel runtime shards it later). About 20 to 30 bytes per string beyond its text (an
/// 8-byte pointer to the text, which a 1-byte length precedes for strings under 128 bytes, and an 8-byte
/// entry of an open-addressing index 3/8 to 3/4 full): every partition key is interned, so this is part
/// of each key's memory.
class StringPool {
public:
    StringPool() = default;
    StringPool(const StringPool& o);
    StringPool& operator=(const StringPool& o);
    StringPool(StringPool&&) noexcept = default;
    StringPool& operator=(StringPool&&) noexcept = default;

    uint32_t intern(std::string_view s);
    /// The id of `s`, or kNoString when it was never interned.
    uint32_t find(std::string_view s) const;
    std::string_view view(uint32_t id) const {
        const auto* p = reinterpret_cast<const unsigned char*>(texts_[id]);
        if (p[0] < 0x80) return {reinterpret_cast<const char*>(p + 1), p[0]};
        return long_view(p);
    }
    size_t size() const { return texts_.size(); }
    /// Heap bytes the pool holds: its text chunks, the per-id pointers and the index (their capacity).
    size_t memory_bytes() const {
        return chunk_bytes_ + texts_.capacity() * sizeof(const char*) + index_.capacity() * sizeof(Slot);
    }

private:
    struct Slot {
        uint32_t id = kNoString;
        uint32_t hash = 0;
    };
    /// The slot holding `s` (hash `h`), or the empty slot where it would go.
    size_t probe(std::string_view s, uint32_t h) const;
    /// intern's miss: a new id for `s` (hash `h`), the index grown first when it would be over 3/4 full.
    [[gnu::noinline]] uint32_t insert(std::string_view s, uint32_t h);
    /// Stores `s` after its length (LEB128: 1 byte under 128) and returns where the length starts.
    const char* store(std::string_view s);
    static std::string_view long_view(const unsigned char* p);
    void grow();

    std::vector<const char*> texts_;              // by id: the length-prefixed text, in chunks_
    std::vector<std::unique_ptr<char[]>> chunks_; // the text, never moved
    size_t chunk_left_ = 0;                       // free bytes at the end of chunks_.back()
    size_t chunk_bytes_ = 0;                      // bytes of all chunks
    std::vector<Slot> index_;                     // size 0 or a power of two
};

/// One validated, decoded event. `fields[i]` holds schema field i (Missing for an absent optional).
struct Event {
    uint16_t type = 0;        ///< index into RuleSet::events
    uint32_t key = kNoString; ///< StringPool id of the partition key (int keys in decimal)
    int64_t time = 0;         ///< event time, µs since the epoch, UTC
    uint64_t seq = 0;         ///< arrival sequence number, unique and increasing per run
    uint64_t line = 0;        ///< 1-based input line number (0 = not from a file)
    uint32_t id = kNoString;  ///< StringPool id of the event's `id` field, if any
    std::vector<Value> fields;
};

} // namespace ethogram::ir
