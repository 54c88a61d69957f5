// key_table.h: the interpreter's per-key states: a slab of KeyState records and a flat index by key id.
#pragma once

#include "compiler/interp/state.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace ethogram::interp {

/// Per-key states of one interpreter. The records live in a slab of fixed-size chunks (stable addresses,
/// no allocation per key, freed records reused); an open-addressing index (linear probing, 8-byte entries,
/// at most 3/4 full) maps a key id to its record. A std::unordered_map spent a 16-byte-overhead node, a
/// next pointer and a cached hash per key, plus its bucket array.
class KeyTable {
public:
    /// Bytes of index per key, as accounted: an 8-byte entry in a table between 3/8 and 3/4 full.
    static constexpr uint64_t kIndexBytesPerKey = 16;

    KeyState* find(uint32_t key) {
        if (index_.empty()) return nullptr;
        for (size_t i = home(key);; i = (i + 1) & mask()) {
            if (index_[i].key == key) return &at(index_[i].slot);
            if (index_[i].key == ir::kNoString) return nullptr;
        }
    }
    const KeyState* find(uint32_t key) const { return const_cast<KeyTable*>(this)->find(key); }
    bool contains(uint32_t key) const { return find(key) != nullptr; }

    /// The record of `key`, created (default, with `key` set) when absent; true when created.
    std::pair<KeyState*, bool> emplace(uint32_t key) {
        if (KeyState* ks = find(key)) return {ks, false};
        if ((size_ + 1) * 4 > index_.size() * 3) rehash(index_.empty() ? 64 : index_.size() * 2);
        uint32_t slot;
        if (!free_.empty()) {
            slot = free_.back();
            free_.pop_back();
        } else {
            if ((slots_ & (kChunk - 1)) == 0) chunks_.push_back(std::make_unique<KeyState[]>(kChunk));
            slot = slots_++;
        }
        size_t i = home(key);
        while (index_[i].key != ir::kNoString) i = (i + 1) & mask();
        index_[i] = Entry{key, slot};
        ++size_;
        KeyState& ks = at(slot);
        ks.key = key;
        return {&ks, true};
    }

    /// Forgets `key`'s record (releasing what it holds); no-op when absent.
    void erase(uint32_t key) {
        if (index_.empty()) return;
        size_t i = home(key);
        for (;; i = (i + 1) & mask()) {
            if (index_[i].key == ir::kNoString) return;
            if (index_[i].key == key) break;
        }
        const uint32_t slot = index_[i].slot;
        at(slot) = KeyState();
        free_.push_back(slot);
        --size_;
        // Backward-shift deletion: move later entries of the probe run into the hole when their home
        // position allows it, so that lookups never need tombstones.
        for (size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
            if (index_[j].key == ir::kNoString) break;
            const size_t h = home(index_[j].key);
            // The entry at j may move to i when i lies cyclically in [h, j).
            if (((j - h) & mask()) >= ((j - i) & mask())) {
                index_[i] = index_[j];
                i = j;
            }
        }
        index_[i] = Entry{ir::kNoString, 0};
    }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void clear() {
        index_.clear();
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
    static constexpr uint32_t kChunk = 256;
    struct Entry {
        uint32_t key = ir::kNoString;
        uint32_t slot = 0;
    };

    size_t mask() const { return index_.size() - 1; }
    size_t home(uint32_t key) const {
        // Fibonacci hashing: key ids are dense small integers, the top bits of the product spread them.
        return static_cast<size_t>((uint64_t{key} * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    KeyState& at(uint32_t slot) const { return chunks_[slot / kChunk][slot % kChunk]; }
    void rehash(size_t cap) {
        std::vector<Entry> old = std::move(index_);
        index_.assign(cap, Entry{});
        shift_ = 64;
        for (size_t c = cap; c > 1; c >>= 1) --shift_;
        for (const Entry& e : old) {
            if (e.key == ir::kNoString) continue;
            size_t i = home(e.key);
            while (index_[i].key != ir::kNoString) i = (i + 1) & mask();
            index_[i] = e;
        }
    }

    std::vector<Entry> index_; // size 0 or a power of two
    unsigned shift_ = 64;      // 64 - log2(index_.size())
    std::vector<std::unique_ptr<KeyState[]>> chunks_;
    std::vector<uint32_t> free_; // freed slab slots, reused first
    size_t size_ = 0;
    uint32_t slots_ = 0; // slab slots handed out so far
};

} // namespace ethogram::interp
