// block_cache.h: a per-thread cache of freed heap blocks by size, for the interpreter's small blocks that
// come and go with the events (stored events, the arrays of partial matches, event rings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace ethogram::interp::blocks {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kRecycle = false; // let AddressSanitizer see every block's lifetime
#else
inline constexpr bool kRecycle = true;
#endif

namespace detail {

/// Freed blocks kept for reuse, per size class, per thread. Stored events are freed when their last
/// reference goes, usually minutes of stream time after they were made and in bursts (a window's or a
/// session's events at once), and the arrays of partial matches and rings are freed each time they
/// double: glibc then consolidated and split chunks (malloc and free were about a sixth of the matcher's
/// time). A list per class is a pop and a push, inline. Thread-local because several interpreters may run
/// on several threads (`--threads`), and a block freed on another thread than the one that made it is
/// simply reused there. Trivial (constant-initialised, no destructor) so that the inline paths read it
/// without a TLS wrapper call; what it holds is given back at thread exit by a hook that the first slow
/// path registers (`state`).
///
/// Blocks of the small classes (below kCarveClasses: up to 1,032 bytes, the stored events, most match
/// arrays and rings) are carved from 16 KiB chunks, the next one of a class's current chunk when its
/// list is empty, instead of a malloc each (a growing live state needs a fresh block for a third of the
/// events on the 3 benchmark rules, 135 to 190 instructions each under oneTBB's malloc or glibc's). A
/// chunk goes back to the allocator when all its blocks are free in one thread's lists: a sweep
/// (block_cache.cpp) counts the free blocks per chunk when the thread holds more than kMaxBytes free and
/// more than twice what it held after its last sweep (so that a fragmented state is not swept on every
/// free), and at thread exit; a thread that exits hands the free blocks of chunks still in use to the
/// next sweep or carve of any thread (the orphans), so that those chunks can go back too. Larger blocks
/// are one allocation each, and above kMaxBytes held go back to the allocator one by one.
struct Cache {
    static constexpr size_t kClasses = 257;                  // class c: blocks of 16 c + 8 bytes
    static constexpr size_t kCarveClasses = 65;              // classes carved from chunks (blocks <= 1032)
    static constexpr size_t kChunkBytes = 16384;             // a chunk of carved blocks
    static constexpr uint64_t kMaxBytes = uint64_t{1} << 20; // held per thread before a sweep / delete
    static constexpr uint8_t kNew = 0, kLive = 1, kDead = 2; // hook not registered / registered / ran

    struct Node {
        Node* next;
    };
    Node* free[kClasses];
    uint64_t held;
    uint8_t state;
    /// The current chunk of each carved class: its next uncarved block and its end (null: none yet).
    char* carve_next[kCarveClasses];
    char* carve_end[kCarveClasses];
    uint64_t sweep_at; ///< held bytes above which a put sweeps (0: kMaxBytes)
};

inline thread_local constinit Cache t_cache{};

/// The size class of a block of `bytes`, and the bytes its blocks are allocated with: glibc's usable
/// sizes (16 k + 8), so that a block takes the malloc chunk an allocation of exactly `bytes` would.
constexpr size_t class_of(size_t bytes) {
    return (bytes + 7) / 16;
}
constexpr size_t class_bytes(size_t c) {
    return c * 16 + 8;
}
/// The distance between carved blocks of class c: the block and 8 bytes, as a malloc chunk takes (so that
/// a carved block is 16-byte aligned like malloc's, and takes no more room).
constexpr size_t carve_stride(size_t c) {
    return class_bytes(c) + 8;
}
/// Blocks of class c in one chunk.
constexpr size_t carve_count(size_t c) {
    return Cache::kChunkBytes / carve_stride(c);
}

/// Chunks allocated and not yet given back, over all threads (tests, and the docs' figures).
uint64_t live_chunks();

void* get_slow(size_t bytes);
void put_slow(void* p, size_t bytes);

} // namespace detail

/// A block of at least `bytes` bytes: a block of the same size class this thread freed before when it
/// holds one (a pop), else a new one: carved from the class's chunk (up to 1,032 bytes), or from
/// ::operator new. Return it with put(p, bytes), the same `bytes`,
/// on any thread.
inline void* get(size_t bytes) {
    if constexpr (!kRecycle) return ::operator new(bytes);
    detail::Cache& c = detail::t_cache;
    const size_t k = detail::class_of(bytes);
    if (k < detail::Cache::kClasses) {
        if (detail::Cache::Node* n = c.free[k]) {
            c.free[k] = n->next;
            c.held -= detail::class_bytes(k);
            return n;
        }
    }
    return detail::get_slow(bytes);
}

/// Returns a block from get(bytes) to this thread's cache, or to ::operator delete when the cache holds
/// its bound (1 MiB per thread) or the block is larger than the largest class (4 KiB); a carved block
/// always goes to the cache (its chunk goes back whole, block_cache.cpp's sweep).
inline void put(void* p, size_t bytes) {
    if constexpr (!kRecycle) {
        ::operator delete(p);
        return;
    }
    detail::Cache& c = detail::t_cache;
    const size_t k = detail::class_of(bytes);
    if (k < detail::Cache::kClasses && c.state == detail::Cache::kLive &&
        c.held + detail::class_bytes(k) <= detail::Cache::kMaxBytes) {
        auto* n = static_cast<detail::Cache::Node*>(p);
        n->next = c.free[k];
        c.free[k] = n;
        c.held += detail::class_bytes(k);
        return;
    }
    detail::put_slow(p, bytes);
}

/// get and put out of line, for paths where the inline pop or push would only grow their caller (a ring's
/// growth and release).
void* get_cold(size_t bytes);
void put_cold(void* p, size_t bytes);

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
