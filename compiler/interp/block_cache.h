// block_cache.h: the interpreter's small blocks that come and go with the events (stored events, the arrays
// of partial matches, event rings): carved from chunks with a free list and a live count each, so that a
// chunk goes back to its source (chunk_source.h) the moment its last block is freed; larger blocks in a
// per-thread cache.
#pragma once

#include <atomic>
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

/// The size class of a block of `bytes`, and the bytes its blocks have: glibc's usable sizes (16 k + 8),
/// so that a block takes the room an allocation of exactly `bytes` would.
constexpr size_t class_of(size_t bytes) {
    return (bytes + 7) / 16;
}
constexpr size_t class_bytes(size_t c) {
    return c * 16 + 8;
}

struct Node {
    Node* next;
};

struct Owner;

/// A 64 KiB chunk of blocks of one class, from the chunk source's 2 MiB regions (chunk_source.h: advised for
/// transparent huge pages); at 16 KiB its header and unused tail cost about one more byte per idle key in
/// `parallel_state_bytes`.
/// Each block is preceded by 8 bytes holding its chunk's address (where malloc keeps its chunk header, so
/// a carved block takes the room a malloc'd one would), which is how a freed block finds its chunk without
/// a search. The chunk's free list and live count belong to the thread that made it (`owner`): a put there
/// is a push and a decrement, and the put that frees the last live block gives the chunk back (or keeps it
/// as the thread's one spare), in O(1), without looking at the other free blocks. A block freed on another
/// thread goes to `remote`, and the chunk joins its owner's adopt list, which the owner takes in before it
/// makes a new chunk (so that a full chunk whose blocks another thread freed is reused or given back while
/// its owner runs, not held until its exit); the current chunk's remote blocks are also taken in when its
/// free list runs dry. After the owner exited, its chunks count their frees under a lock and go back at
/// zero.
struct Chunk {
    Node* free;                // freed blocks of this chunk (owner only)
    char* bump;                // the next block never handed out
    char* end;                 // past the last block
    Chunk* prev;               // in the owner's list of chunks with free blocks, per class (`linked`)
    Chunk* next;               //
    Chunk* all_prev;           // in the owner's list of all its chunks (its exit abandons them)
    Chunk* all_next;           //
    Owner* owner;              // the thread that made it (never changes)
    std::atomic<Node*> remote; // blocks freed on other threads, not yet counted
    Chunk* adopt_next;         // in the owner's list of chunks with remote frees (`queued`, under the lock)
    uint32_t live;             // blocks handed out and not freed (remote frees counted when taken in)
    uint16_t cls;              //
    bool linked;               // current chunk of its class, or in the partial list
    std::atomic<bool> queued;  // in the owner's adopt list (set under the lock before a remote push)
};

inline constexpr size_t kChunkBytes = 65536;
inline constexpr size_t kFirstPrefix = 88; // the first block's chunk address; the block at 96 (16-aligned)
static_assert(sizeof(Chunk) <= kFirstPrefix);

/// The distance between carved blocks of class c: the block and its 8-byte chunk address.
constexpr size_t carve_stride(size_t c) {
    return class_bytes(c) + 8;
}
/// Blocks of class c in one chunk.
constexpr size_t carve_count(size_t c) {
    return (kChunkBytes - kFirstPrefix) / carve_stride(c);
}

inline Chunk* chunk_of(void* p) {
    return *reinterpret_cast<Chunk**>(static_cast<char*>(p) - 8);
}

/// Per thread: the current chunk of each carved class and the chunks with free blocks, and freed larger
/// blocks kept for reuse per class. Trivial (constant-initialised, no destructor) so that the inline paths
/// read it without a TLS wrapper call; its exit hook (registered by the first slow path, `state`) abandons
/// its chunks and frees what it holds.
struct Cache {
    static constexpr size_t kCarveClasses = 65;              // classes carved from chunks (blocks <= 1032)
    static constexpr size_t kClasses = 257;                  // cached larger classes up to 4,104 bytes
    static constexpr uint64_t kMaxBytes = uint64_t{1} << 20; // larger blocks held per thread
    static constexpr uint8_t kNew = 0, kLive = 1, kDead = 2; // hook not registered / registered / ran

    Chunk* cur[kCarveClasses];     // the chunk blocks come from (null: none)
    Chunk* partial[kCarveClasses]; // other chunks with free blocks (doubly linked, `linked`)
    Chunk* all;                    // every chunk this thread owns
    Chunk* spare;                  // one empty chunk kept (a state that shrinks and grows again)
    Owner* owner;                  // this thread's identity in its chunks (null before the first carve)
    Node* free[kClasses];          // larger freed blocks (classes kCarveClasses and up)
    uint64_t held;                 // bytes in `free`
    uint8_t state;
};

inline thread_local constinit Cache t_cache{};

void* get_carve(size_t k);
void put_carved_slow(void* p, Chunk* ch);
void* get_slow(size_t bytes);
void put_slow(void* p, size_t bytes);

/// Chunks allocated and not yet given back, over all threads (tests, the teardown benchmark).
uint64_t live_chunks();

} // namespace detail

/// A block of at least `bytes` bytes: up to 1,032 bytes a freed block of the current chunk of its class
/// (a pop), else the next block never handed out or another chunk's (block_cache.cpp); above that a block
/// of the same class this thread freed before, else ::operator new. Return it with put(p, bytes), the same
/// `bytes`, on any thread.
inline void* get(size_t bytes) {
    if constexpr (!kRecycle) return ::operator new(bytes);
    detail::Cache& c = detail::t_cache;
    const size_t k = detail::class_of(bytes);
    if (k < detail::Cache::kCarveClasses) {
        if (detail::Chunk* ch = c.cur[k])
            if (detail::Node* n = ch->free) {
                ch->free = n->next;
                ++ch->live;
                return n;
            }
        return detail::get_carve(k);
    }
    if (k < detail::Cache::kClasses) {
        if (detail::Node* n = c.free[k]) {
            c.free[k] = n->next;
            c.held -= detail::class_bytes(k);
            return n;
        }
    }
    return detail::get_slow(bytes);
}

/// Returns a block from get(bytes): a carved block to its chunk (a push; the chunk goes back when it was
/// the last live block, block_cache.cpp), a larger one to this thread's cache, or to ::operator delete
/// when the cache holds its bound (1 MiB per thread) or the block is larger than the largest class.
inline void put(void* p, size_t bytes) {
    if constexpr (!kRecycle) {
        ::operator delete(p);
        return;
    }
    detail::Cache& c = detail::t_cache;
    const size_t k = detail::class_of(bytes);
    if (k < detail::Cache::kCarveClasses) {
        detail::Chunk* ch = detail::chunk_of(p);
        if (ch->owner == c.owner && ch->linked && ch->live > 1) {
            auto* n = static_cast<detail::Node*>(p);
            n->next = ch->free;
            ch->free = n;
            --ch->live;
            return;
        }
        detail::put_carved_slow(p, ch);
        return;
    }
    if (k < detail::Cache::kClasses && c.state == detail::Cache::kLive &&
        c.held + detail::class_bytes(k) <= detail::Cache::kMaxBytes) {
        auto* n = static_cast<detail::Node*>(p);
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
