// block_cache.h: a per-thread cache of freed heap blocks by size, for the interpreter's small blocks that
// come and go with the events (stored events, the arrays of partial matches, event rings).
#pragma once

#include <cstddef>
#include <memory>

namespace ethogram::interp::blocks {

/// A block of at least `bytes` bytes: a block of the same size class this thread freed before when it
/// holds one (a pop), else a new one from ::operator new. Return it with put(p, bytes), the same `bytes`,
/// on any thread. A size class is 16 bytes wide and its blocks are allocated at glibc's usable size
/// (16k + 8 bytes), so a block takes the same malloc chunk as an allocation of exactly `bytes` would.
void* get(size_t bytes);
/// Returns a block from get(bytes) to this thread's cache, or to ::operator delete when the cache holds
/// its bound (1 MiB per thread) or the block is larger than the largest class (4 KiB).
void put(void* p, size_t bytes);

/// A std allocator over get/put (stateless: every instance is interchangeable).
template <class T>
struct Allocator {
    using value_type = T;
    Allocator() = default;
    template <class U>
    Allocator(const Allocator<U>&) noexcept {} // NOLINT(google-explicit-constructor): rebinding
    T* allocate(size_t n) { return static_cast<T*>(get(n * sizeof(T))); }
    void deallocate(T* p, size_t n) noexcept { put(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const Allocator<U>&) const noexcept {
        return true;
    }
};

} // namespace ethogram::interp::blocks
