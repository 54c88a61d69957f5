// event_ring.h: the interpreter's event buffer: a growable ring of EventPtr, 8 bytes while empty and
// allocating nothing then (std::deque allocated a 512-byte node even then; a vector-based ring took 40
// bytes).
#pragma once

#include "compiler/interp/block_cache.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace ethogram::interp {

/// A FIFO with the part of std::deque's interface the interpreter uses: push_back, pop_front, front,
/// back, size, empty, clear and forward iteration (oldest first). One allocation holds the header
/// (capacity, head, size, words), optional 64-bit words of the owner's (a shared threshold scope keeps
/// its running counts there: they exist exactly while the ring is allocated, and are zero when it is
/// allocated) and the slots. Capacity grows by doubling, never shrinks except on clear(), which releases
/// the storage.
template <class T>
class Ring {
public:
    class const_iterator {
    public:
        const_iterator(const Ring* r, size_t i) : r_(r), i_(i) {}
        const T& operator*() const { return (*r_)[i_]; }
        const T* operator->() const { return &(*r_)[i_]; }
        const_iterator& operator++() {
            ++i_;
            return *this;
        }
        bool operator==(const const_iterator& o) const { return i_ == o.i_; }
        bool operator!=(const const_iterator& o) const { return i_ != o.i_; }

    private:
        const Ring* r_;
        size_t i_;
    };

    /// The allocation's header, followed by `words` int64 words and then `cap` slots. Public because
    /// compiled code (compiler/jit, an aggregate's loop over a scope) reads a ring at these offsets: the
    /// ring itself is one pointer to its Head (null while it has no allocation). The slots
    /// [head, head + size) (mod cap) hold live objects; the others are raw storage.
    struct alignas(8) Head {
        uint32_t cap;   ///< 0 or a power of two
        uint32_t head;  ///< index of the oldest element
        uint32_t size;  ///< live elements
        uint32_t words; ///< int64 words between the header and the slots
    };

    Ring() = default;
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    Ring(Ring&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Ring& operator=(Ring&& o) noexcept {
        if (this != &o) {
            clear();
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    ~Ring() { clear(); }

    size_t size() const { return p_ ? p_->size : 0; }
    bool empty() const { return size() == 0; }
    size_t capacity() const { return p_ ? p_->cap : 0; }
    /// Heap bytes of the one allocation (0 while it has none).
    size_t heap_bytes() const {
        return p_ ? sizeof(Head) + p_->words * sizeof(int64_t) + p_->cap * sizeof(T) : 0;
    }
    /// The owner's words (null while the ring has no allocation, or was allocated without words).
    int64_t* words() const { return p_ && p_->words ? reinterpret_cast<int64_t*>(p_ + 1) : nullptr; }
    const T& operator[](size_t i) const { return slots()[(p_->head + i) & (p_->cap - 1)]; }
    const T& front() const { return slots()[p_->head]; }
    const T& back() const { return (*this)[p_->size - 1]; }
    /// The ring's layout read once, for a loop that indexes it while only the owner's words change (a
    /// nested window's view, threshold.cpp): element i (0: the oldest) without reloading the header.
    struct Parts {
        const T* slots;
        uint32_t head, mask, size;
        const T& operator[](size_t i) const { return slots[(head + i) & mask]; }
    };
    /// Parts of an allocated ring.
    Parts parts() const { return Parts{slots(), p_->head, p_->cap - 1, p_->size}; }
    const_iterator begin() const { return const_iterator(this, 0); }
    const_iterator end() const { return const_iterator(this, size()); }

    /// Appends `v`; `words`: the owner's words (zeroed) to allocate beside the slots, when this push
    /// allocates the ring (an allocated ring keeps the words it has). The first allocation holds 2 slots;
    /// a full ring then grows to twice its capacity, and at least to `regrow` (a power of two): a ring
    /// that outgrew 2 slots usually grows on, and each growth is an allocation and a copy.
    void push_back(T v, uint32_t words = 0, uint32_t regrow = 4) {
        if (size() == capacity()) grow(words, regrow);
        new (slots() + ((p_->head + p_->size) & (p_->cap - 1))) T(std::move(v));
        ++p_->size;
    }
    void pop_front() {
        slots()[p_->head].~T();
        p_->head = (p_->head + 1) & (p_->cap - 1);
        --p_->size;
    }
    void clear() {
        if (!p_) return;
        while (p_->size > 0) pop_front();
        blocks::put_cold(p_, heap_bytes());
        p_ = nullptr;
    }

private:
    static_assert(alignof(T) <= alignof(Head));
    T* slots() const { return reinterpret_cast<T*>(reinterpret_cast<int64_t*>(p_ + 1) + p_->words); }

    // Out of line: the rare path, which would otherwise keep push_back's callers from being inlined.
    [[gnu::noinline]] void grow(uint32_t words, uint32_t regrow) {
        const uint32_t cap = p_ ? std::max(p_->cap * 2, regrow) : 2;
        if (p_) words = p_->words;
        auto* next = static_cast<Head*>(
            blocks::get_cold(sizeof(Head) + size_t{words} * sizeof(int64_t) + size_t{cap} * sizeof(T)));
        next->cap = cap;
        next->head = 0;
        next->size = 0;
        next->words = words;
        auto* w = reinterpret_cast<int64_t*>(next + 1);
        for (uint32_t i = 0; i < words; ++i) w[i] = p_ ? reinterpret_cast<int64_t*>(p_ + 1)[i] : 0;
        if (p_) {
            T* to = reinterpret_cast<T*>(w + words);
            for (uint32_t i = 0; i < p_->size; ++i) {
                T& from = slots()[(p_->head + i) & (p_->cap - 1)];
                new (to + i) T(std::move(from));
                from.~T();
            }
            next->size = p_->size;
            blocks::put_cold(p_, heap_bytes());
        }
        p_ = next;
    }

    Head* p_ = nullptr;
};

} // namespace ethogram::interp
