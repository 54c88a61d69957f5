// block_cache.cpp: the slow paths of the per-thread block cache (block_cache.h): carving, the sweep that
// gives whole free chunks back to the allocator, and the thread exit.
#include "compiler/interp/block_cache.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace ethogram::interp::blocks::detail {

namespace {

std::atomic<uint64_t> g_live_chunks{0};

/// What the threads share, under one lock: the chunks (their start addresses, so that a sweep finds a
/// block's chunk; chunks are plain allocations, not aligned: glibc's aligned allocation left the unused
/// part before each 16 KiB chunk to small allocations that rarely came, 58 to 95 bytes more RSS per idle
/// key in `parallel_state_bytes`), and the free carved blocks of exited threads per class (the orphans),
/// for the next thread that sweeps or carves: their chunks may still hold live blocks (freed later, on
/// another thread), which only a list holding every free block of a chunk can see.
struct Shared {
    std::mutex mu;
    std::set<uintptr_t> chunks;
    Cache::Node* orphans[Cache::kCarveClasses] = {};
    std::atomic<bool> any_orphans{false};
};

Shared& shared() {
    static Shared* s = new Shared; // never destroyed: threads may exit during static destruction
    return *s;
}

void push(Cache& c, void* p, size_t k) {
    auto* n = static_cast<Cache::Node*>(p);
    n->next = c.free[k];
    c.free[k] = n;
    c.held += class_bytes(k);
}

/// Moves the orphaned blocks into this thread's lists.
void adopt(Cache& c) {
    Shared& sh = shared();
    std::lock_guard<std::mutex> lock(sh.mu);
    for (size_t k = 0; k < Cache::kCarveClasses; ++k)
        while (Cache::Node* n = sh.orphans[k]) {
            sh.orphans[k] = n->next;
            push(c, n, k);
        }
    sh.any_orphans.store(false, std::memory_order_relaxed);
}

/// Gives back every chunk of class k whose blocks are all in this thread's list (none is live, none is in
/// another list, none is left to carve). `starts`: every chunk's start, sorted.
void sweep_class(Cache& c, size_t k, const std::vector<uintptr_t>& starts) {
    if (!c.free[k]) return;
    auto chunk_of = [&](const void* p) {
        return *(std::upper_bound(starts.begin(), starts.end(), reinterpret_cast<uintptr_t>(p)) - 1);
    };
    std::vector<uintptr_t> chunks;
    for (Cache::Node* n = c.free[k]; n; n = n->next) chunks.push_back(chunk_of(n));
    std::sort(chunks.begin(), chunks.end());
    std::vector<uintptr_t> whole;
    for (size_t i = 0; i < chunks.size();) {
        size_t j = i;
        while (j < chunks.size() && chunks[j] == chunks[i]) ++j;
        if (j - i == carve_count(k)) whole.push_back(chunks[i]);
        i = j;
    }
    if (whole.empty()) return;
    Cache::Node** at = &c.free[k];
    while (Cache::Node* n = *at) {
        if (std::binary_search(whole.begin(), whole.end(), chunk_of(n))) {
            *at = n->next;
            c.held -= class_bytes(k);
        } else {
            at = &n->next;
        }
    }
    Shared& sh = shared();
    std::lock_guard<std::mutex> lock(sh.mu);
    for (uintptr_t ch : whole) {
        // The class's current chunk is whole only when it is carved to its end: the next carve takes a new
        // one (carve_next == carve_end), so nothing reads it again.
        sh.chunks.erase(ch);
        ::operator delete(reinterpret_cast<void*>(ch));
        g_live_chunks.fetch_sub(1, std::memory_order_relaxed);
    }
}

void sweep(Cache& c) {
    if (shared().any_orphans.load(std::memory_order_relaxed)) adopt(c);
    std::vector<uintptr_t> starts;
    {
        // A snapshot: chunks other threads add meanwhile hold none of this thread's free blocks, and only
        // this thread removes the chunks its free blocks are in.
        Shared& sh = shared();
        std::lock_guard<std::mutex> lock(sh.mu);
        starts.assign(sh.chunks.begin(), sh.chunks.end());
    }
    for (size_t k = 0; k < Cache::kCarveClasses; ++k) sweep_class(c, k, starts);
    c.sweep_at = std::max(Cache::kMaxBytes, 2 * c.held);
}

/// Frees the blocks this thread's cache holds when the thread exits: the uncarved rest of its chunks
/// becomes free blocks, whole free chunks go back, the other carved blocks become orphans, the rest is
/// deleted. Blocks put after that go back to the allocator, or to the orphans when carved.
struct ExitHook {
    ~ExitHook() {
        Cache& c = t_cache;
        for (size_t k = 0; k < Cache::kCarveClasses; ++k) {
            for (char* p = c.carve_next[k]; p && p != c.carve_end[k]; p += carve_stride(k)) push(c, p, k);
            c.carve_next[k] = c.carve_end[k] = nullptr;
        }
        sweep(c);
        {
            Shared& sh = shared();
            std::lock_guard<std::mutex> lock(sh.mu);
            for (size_t k = 0; k < Cache::kCarveClasses; ++k)
                while (Cache::Node* n = c.free[k]) {
                    c.free[k] = n->next;
                    n->next = sh.orphans[k];
                    sh.orphans[k] = n;
                    sh.any_orphans.store(true, std::memory_order_relaxed);
                }
        }
        for (Cache::Node*& head : c.free)
            while (head) ::operator delete(std::exchange(head, head->next));
        c.held = 0;
        c.state = Cache::kDead;
    }
};

thread_local ExitHook t_exit_hook;

/// Registers the exit hook on the first slow path of a thread.
void go_live(Cache& c) {
    (void)&t_exit_hook;
    c.state = Cache::kLive;
}

/// Carves the first block of a new chunk for class k (its current one is carved to its end, or there is
/// none), after taking in the orphans (whose blocks of class k are reused first).
[[gnu::noinline]] void* carve_chunk(Cache& c, size_t k) {
    if (c.state == Cache::kNew) go_live(c);
    Shared& sh = shared();
    if (sh.any_orphans.load(std::memory_order_relaxed)) {
        adopt(c);
        if (Cache::Node* n = c.free[k]) {
            c.free[k] = n->next;
            c.held -= class_bytes(k);
            return n;
        }
    }
    auto* p = static_cast<char*>(::operator new(Cache::kChunkBytes));
    {
        std::lock_guard<std::mutex> lock(sh.mu);
        sh.chunks.insert(reinterpret_cast<uintptr_t>(p));
    }
    g_live_chunks.fetch_add(1, std::memory_order_relaxed);
    c.carve_end[k] = p + carve_count(k) * carve_stride(k);
    c.carve_next[k] = p + carve_stride(k);
    return p;
}

} // namespace

uint64_t live_chunks() {
    return g_live_chunks.load(std::memory_order_relaxed);
}

void* get_slow(size_t bytes) {
    const size_t k = class_of(bytes);
    if constexpr (kRecycle) {
        if (k < Cache::kCarveClasses) {
            // The next block of the class's current chunk: a bump (the chunk's blocks go back together).
            Cache& c = t_cache;
            char* p = c.carve_next[k];
            if (p == c.carve_end[k]) return carve_chunk(c, k);
            c.carve_next[k] = p + carve_stride(k);
            return p;
        }
    }
    return ::operator new(k < Cache::kClasses ? class_bytes(k) : bytes);
}

void put_slow(void* p, size_t bytes) {
    Cache& c = t_cache;
    const size_t k = class_of(bytes);
    if (k < Cache::kCarveClasses) {
        // A carved block never goes back alone: to the cache (swept when it holds enough), or after this
        // thread's exit to the orphans.
        if (c.state == Cache::kDead) {
            Shared& sh = shared();
            std::lock_guard<std::mutex> lock(sh.mu);
            auto* n = static_cast<Cache::Node*>(p);
            n->next = sh.orphans[k];
            sh.orphans[k] = n;
            sh.any_orphans.store(true, std::memory_order_relaxed);
            return;
        }
        if (c.state == Cache::kNew) go_live(c);
        push(c, p, k);
        if (c.held > std::max(Cache::kMaxBytes, c.sweep_at)) sweep(c);
        return;
    }
    if (k < Cache::kClasses && c.state == Cache::kNew) {
        // The first block this thread keeps: register the hook that frees the kept blocks at its exit.
        go_live(c);
        put(p, bytes);
        return;
    }
    ::operator delete(p);
}

} // namespace ethogram::interp::blocks::detail

namespace ethogram::interp::blocks {

void* get_cold(size_t bytes) {
    return get(bytes);
}

void put_cold(void* p, size_t bytes) {
    put(p, bytes);
}

} // namespace ethogram::interp::blocks
