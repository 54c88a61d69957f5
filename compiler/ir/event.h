// event.h: the decoded event and the string pool: what ingestion produces and executors consume.
#pragma once

#include "compiler/ir/value.h"

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ethogram::ir {

constexpr uint32_t kNoString = UINT32_MAX;

/// Interns strings to dense 32-bit ids so that executors compare ids, never text. Ids are stable for the
/// pool's life. Not thread-safe: one pool per pipeline (the parallel runtime shards it later).
class StringPool {
public:
    uint32_t intern(std::string_view s);
    /// The id of `s`, or kNoString when it was never interned.
    uint32_t find(std::string_view s) const;
    std::string_view view(uint32_t id) const { return storage_[id]; }
    size_t size() const { return storage_.size(); }

private:
    std::deque<std::string> storage_; // deque: views into it stay valid as it grows
    std::unordered_map<std::string_view, uint32_t> ids_;
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
