// block_cache.cpp: the slow paths of the block cache (block_cache.h): carving chunks, the exit hook and
// the shared pool of the free blocks of exited threads.
#include "compiler/interp/block_cache.h"

#include <atomic>
#include <mutex>
#include <utility>

namespace ethogram::interp::blocks::detail {

namespace {

constexpr size_t kChunkBytes = size_t{16} << 10; // a chunk: 16 KiB of blocks of one class (at least one)

/// The rest of this thread's last chunk per class (carved front to back).
struct Carve {
    char* next[Cache::kClasses];
    char* end[Cache::kClasses];
};
thread_local constinit Carve t_carve{};

/// The free blocks of exited threads (and blocks freed during a thread's exit), per class, taken whole by
/// the next thread whose list of that class is empty. Never freed: the blocks may be carved.
struct Pool {
    std::mutex m;
    /// Written under `m`; read without it only to skip the lock while a class's list is empty.
    std::atomic<Cache::Node*> free[Cache::kClasses] = {};
};
Pool& pool() {
    static Pool* p = new Pool(); // never destroyed: threads may still exit after static destruction
    return *p;
}

void to_pool(Cache::Node* list, size_t k) {
    if (!list) return;
    Cache::Node* tail = list;
    while (tail->next) tail = tail->next;
    Pool& p = pool();
    const std::lock_guard<std::mutex> lock(p.m);
    tail->next = p.free[k].load(std::memory_order_relaxed);
    p.free[k].store(list, std::memory_order_relaxed);
}

/// Hands this thread's free blocks, and the uncarved rest of its chunks, to the pool at its exit.
struct ExitHook {
    ~ExitHook() {
        Cache& c = t_cache;
        for (size_t k = 0; k < Cache::kClasses; ++k) {
            for (char*& at = t_carve.next[k]; at && at + class_bytes(k) <= t_carve.end[k];
                 at += class_bytes(k)) {
                auto* n = reinterpret_cast<Cache::Node*>(at);
                n->next = c.free[k];
                c.free[k] = n;
            }
            to_pool(std::exchange(c.free[k], nullptr), k);
        }
        c.state = Cache::kDead;
    }
};
thread_local ExitHook t_exit_hook;

void ensure_live(Cache& c) {
    if (c.state != Cache::kNew) return;
    (void)&t_exit_hook; // constructs it: its destructor runs at this thread's exit
    c.state = Cache::kLive;
}

} // namespace

void* get_slow(size_t bytes) {
    const size_t k = class_of(bytes);
    if (k >= Cache::kClasses) return ::operator new(bytes);
    Cache& c = t_cache;
    ensure_live(c);
    if (Pool& p = pool(); p.free[k].load(std::memory_order_relaxed)) {
        const std::lock_guard<std::mutex> lock(p.m);
        c.free[k] = p.free[k].exchange(nullptr, std::memory_order_relaxed);
    }
    if (Cache::Node* n = c.free[k]) {
        c.free[k] = n->next;
        return n;
    }
    const size_t size = class_bytes(k);
    char*& at = t_carve.next[k];
    if (!at || at + size > t_carve.end[k]) {
        const size_t n = kChunkBytes / size > 0 ? kChunkBytes / size : 1;
        at = static_cast<char*>(::operator new(n* size));
        t_carve.end[k] = at + n * size;
    }
    return std::exchange(at, at + size);
}

void put_slow(void* p, size_t bytes) {
    const size_t k = class_of(bytes);
    if (k >= Cache::kClasses) {
        ::operator delete(p);
        return;
    }
    Cache& c = t_cache;
    auto* n = static_cast<Cache::Node*>(p);
    n->next = nullptr;
    if (c.state == Cache::kDead) {
        to_pool(n, k); // freed during this thread's exit, after its hook ran
        return;
    }
    ensure_live(c);
    n->next = c.free[k];
    c.free[k] = n;
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
