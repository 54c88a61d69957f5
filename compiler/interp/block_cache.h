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
/// time). A list per class is a pop and a push, inline. Bounded (kMaxBytes per thread, the rest goes back
/// to the allocator); thread-local because several interpreters may run on several threads
/// (`--threads`), and a block freed on another thread than the one that made it is simply reused there.
/// Trivial (constant-initialised, no destructor) so that the inline paths read it without a TLS wrapper
/// call; the blocks it holds are freed at thread exit by a hook that the first put registers (`state`).
struct Cache {
    static constexpr size_t kClasses = 257;                  // class c: blocks of 16 c + 8 bytes
    static constexpr uint64_t kMaxBytes = uint64_t{1} << 20; // held per thread
    static constexpr uint8_t kNew = 0, kLive = 1, kDead = 2; // hook not registered / registered / ran

    struct Node {
        Node* next;
    };
    Node* free[kClasses];
    uint64_t held;
    uint8_t state;
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

void* get_slow(size_t bytes);
void put_slow(void* p, size_t bytes);

} // namespace detail

/// A block of at least `bytes` bytes: a block of the same size class this thread freed before when it
/// holds one (a pop), else a new one from ::operator new. Return it with put(p, bytes), the same `bytes`,
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
/// its bound (1 MiB per thread) or the block is larger than the largest class (4 KiB).
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
