// block_cache.h: the interpreter's small heap blocks that come and go with the events (stored events, the
// arrays of partial matches, event rings): carved from chunks per size class and recycled per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace ethogram::interp::blocks {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kRecycle = false; // every block from ::operator new: AddressSanitizer sees lifetimes
#else
inline constexpr bool kRecycle = true;
#endif

namespace detail {

/// Free blocks per size class, per thread. A stored event is freed when its last reference goes, usually
/// minutes of stream time after it was made and in bursts (a window's or a session's events at once), the
/// arrays of partial matches and rings each time they double, and while the live state grows every event
/// needs a fresh block: glibc consolidated and split chunks, or cut a fresh one from the top of its heap
/// (160 to 190 instructions per block), so malloc and free were a sixth of the matcher's time. Here a block
/// is a pop from its class's list, a freed block a push, and a class with an empty list takes the next
/// block of a chunk it carves (block_cache.cpp). Blocks are never returned to the allocator: what the
/// stored state held at its peak stays for reuse by later state (see docs/performance.md). Per thread
/// because several interpreters may run on several threads (`--threads`); a block freed on another thread
/// than the one that made it is simply reused there, and a thread's free blocks go to a shared pool when
/// it exits. Trivial (constant-initialised, no destructor) so that the inline paths read it without a TLS
/// wrapper call; the first slow path registers the exit hook (`state`).
struct Cache {
    static constexpr size_t kClasses = 257;                  // class c: blocks of 16 c + 8 bytes
    static constexpr uint8_t kNew = 0, kLive = 1, kDead = 2; // exit hook not registered / registered / ran

    struct Node {
        Node* next;
    };
    Node* free[kClasses];
    uint8_t state;
};

inline thread_local constinit Cache t_cache{};

/// The size class of a block of `bytes`, and the bytes its blocks take: glibc's usable sizes (16 k + 8),
/// the malloc chunk an allocation of exactly `bytes` took before blocks were carved.
constexpr size_t class_of(size_t bytes) {
    return (bytes + 7) / 16;
}
constexpr size_t class_bytes(size_t c) {
    return c * 16 + 8;
}

void* get_slow(size_t bytes);
void put_slow(void* p, size_t bytes);

} // namespace detail

/// A block of at least `bytes` bytes: a block of the same size class freed before when this thread holds
/// one (a pop), else one carved from a chunk (larger blocks than the largest class, 4 KiB: ::operator
/// new). Return it with put(p, bytes), the same `bytes`, on any thread.
inline void* get(size_t bytes) {
    if constexpr (!kRecycle) return ::operator new(bytes);
    detail::Cache& c = detail::t_cache;
    const size_t k = detail::class_of(bytes);
    if (k < detail::Cache::kClasses) {
        if (detail::Cache::Node* n = c.free[k]) {
            c.free[k] = n->next;
            return n;
        }
    }
    return detail::get_slow(bytes);
}

/// Returns a block from get(bytes) to this thread's free blocks of its class.
inline void put(void* p, size_t bytes) {
    if constexpr (!kRecycle) {
        ::operator delete(p);
        return;
    }
    detail::Cache& c = detail::t_cache;
    const size_t k = detail::class_of(bytes);
    if (k < detail::Cache::kClasses && c.state == detail::Cache::kLive) {
        auto* n = static_cast<detail::Cache::Node*>(p);
        n->next = c.free[k];
        c.free[k] = n;
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
