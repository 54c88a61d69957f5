// key_table.h: the interpreter's per-key states: a slab of records (a KeyState and its arrays) and a
// direct index by key id.
#pragma once

#include "compiler/interp/state.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace ethogram::interp {

/// The sizes of the arrays every record of one interpreter holds (fixed by the rule set).
struct KeyLayout {
    uint32_t sessions = 0;
    uint32_t thresholds = 0, threshold_first = 0;
    uint32_t patterns = 0, pattern_first = 0;
    uint32_t models = 0;
};

/// Per-key states of one interpreter. A record is a KeyState followed by its per-session, per-threshold-
/// rule, per-pattern-rule and per-model arrays (Slots, laid out once per rule set): one piece of a slab of
/// fixed-size chunks (stable addresses, no allocation per key, freed records reused). The index maps a key
/// id to its record directly: key ids are StringPool ids, dense small integers, so a two-level array of
/// 4-byte record numbers (pages of 4096 ids, allocated on first use) replaces a hash table (an 8-byte entry
/// per key in a table 3/8 to 3/4 full, 11 to 21 bytes a key) and needs no hashing or probing.
class KeyTable {
public:
    /// Bytes of index per key, as accounted: its 4-byte entry (the pages cover every string id up to the
    /// largest key id; partition keys are most of a pipeline's strings).
    static constexpr uint64_t kIndexBytesPerKey = 4;

    KeyTable() = default;
    KeyTable(const KeyTable&) = delete;
    KeyTable& operator=(const KeyTable&) = delete;
    ~KeyTable() { clear(); }

    /// Sets the arrays of every record; only while the table is empty.
    void set_layout(const KeyLayout& l) {
        layout_ = l;
        size_t off = sizeof(KeyState);
        auto place = [&](size_t& at, size_t bytes) {
            at = bytes == 0 ? 0 : off;
            off += bytes;
        };
        place(sessions_at_, Slots<SessionState>::inline_bytes(l.sessions));
        place(thresholds_at_, Slots<ThresholdState>::inline_bytes(l.thresholds));
        place(patterns_at_, Slots<PatternState>::inline_bytes(l.patterns));
        place(models_at_, Slots<ModelKeyState>::inline_bytes(l.models));
        stride_ = (off + 7) & ~size_t{7};
    }
    /// Bytes of one record (the KeyState and its arrays).
    size_t record_bytes() const { return stride_; }

    KeyState* find(uint32_t key) {
        const size_t page = key / kPage;
        if (page >= pages_.size() || !pages_[page]) return nullptr;
        const uint32_t slot = pages_[page][key % kPage];
        return slot == kNone ? nullptr : &at(slot);
    }
    const KeyState* find(uint32_t key) const { return const_cast<KeyTable*>(this)->find(key); }
    bool contains(uint32_t key) const { return find(key) != nullptr; }

    /// The record of `key`, created (its arrays default, `key` set) when absent; true when created.
    std::pair<KeyState*, bool> emplace(uint32_t key) {
        uint32_t& entry = index_entry(key);
        if (entry != kNone) return {&at(entry), false};
        uint32_t slot;
        if (!free_.empty()) {
            slot = free_.back();
            free_.pop_back();
        } else {
            if ((slots_ & (kChunk - 1)) == 0)
                chunks_.push_back(std::unique_ptr<char[]>(new char[kChunk * stride_]));
            slot = slots_++;
            new (&at(slot)) KeyState();
        }
        entry = slot;
        ++size_;
        KeyState& ks = at(slot);
        ks.key = key;
        bind(ks);
        return {&ks, true};
    }

    /// Forgets `key`'s record (releasing what it holds); no-op when absent.
    void erase(uint32_t key) {
        const size_t page = key / kPage;
        if (page >= pages_.size() || !pages_[page]) return;
        uint32_t& entry = pages_[page][key % kPage];
        if (entry == kNone) return;
        KeyState& ks = at(entry);
        ks.~KeyState();
        new (&ks) KeyState(); // a free record: key kNoString, no arrays
        free_.push_back(entry);
        entry = kNone;
        --size_;
    }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void clear() {
        for (uint32_t s = 0; s < slots_; ++s) at(s).~KeyState();
        pages_.clear();
        chunks_.clear();
        free_.clear();
        size_ = 0;
        slots_ = 0;
    }

    /// Calls f(KeyState&) on every record, in slab order (no particular key order). `f` must not insert
    /// or erase.
    template <class F>
    void for_each(F&& f) {
        for (uint32_t s = 0; s < slots_; ++s)
            if (at(s).key != ir::kNoString) f(at(s));
    }
    template <class F>
    void for_each(F&& f) const {
        for (uint32_t s = 0; s < slots_; ++s)
            if (at(s).key != ir::kNoString) f(static_cast<const KeyState&>(at(s)));
    }

private:
    static constexpr uint32_t kChunk = 256; // records per slab chunk
    static constexpr uint32_t kPage = 4096; // index entries per page
    static constexpr uint32_t kNone = UINT32_MAX;

    KeyState& at(uint32_t slot) const {
        return *reinterpret_cast<KeyState*>(chunks_[slot / kChunk].get() + size_t{slot % kChunk} * stride_);
    }
    uint32_t& index_entry(uint32_t key) {
        const size_t page = key / kPage;
        if (page >= pages_.size()) pages_.resize(page + 1);
        if (!pages_[page]) {
            pages_[page] = std::make_unique<uint32_t[]>(kPage);
            std::memset(pages_[page].get(), 0xff, kPage * sizeof(uint32_t)); // kNone
        }
        return pages_[page][key % kPage];
    }
    template <class T>
    static void bind_one(KeyState& ks, Slots<T>& s, size_t at, size_t n, uint32_t base) {
        if (n == 0) return;
        const auto rel = static_cast<size_t>(reinterpret_cast<char*>(&ks) + at - reinterpret_cast<char*>(&s));
        s.bind(rel, n, base);
    }
    void bind(KeyState& ks) const {
        bind_one(ks, ks.sessions, sessions_at_, layout_.sessions, 0);
        bind_one(ks, ks.thresholds, thresholds_at_, layout_.thresholds, layout_.threshold_first);
        bind_one(ks, ks.patterns, patterns_at_, layout_.patterns, layout_.pattern_first);
        bind_one(ks, ks.models, models_at_, layout_.models, 0);
    }

    KeyLayout layout_;
    size_t sessions_at_ = 0, thresholds_at_ = 0, patterns_at_ = 0, models_at_ = 0; // offsets in a record
    size_t stride_ = sizeof(KeyState);
    std::vector<std::unique_ptr<uint32_t[]>> pages_; // by key / kPage: record numbers, kNone when absent
    std::vector<std::unique_ptr<char[]>> chunks_;    // kChunk records of stride_ bytes each
    std::vector<uint32_t> free_;                     // freed records, reused first
    size_t size_ = 0;
    uint32_t slots_ = 0; // records handed out so far (all constructed)
};

} // namespace ethogram::interp
