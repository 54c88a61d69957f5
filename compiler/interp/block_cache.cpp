// block_cache.cpp: the slow paths of the per-thread block cache (block_cache.h).
#include "compiler/interp/block_cache.h"

#include <utility>

namespace ethogram::interp::blocks::detail {

namespace {

/// Frees the blocks this thread's cache holds when the thread exits; blocks put after that go straight
/// back to the allocator.
struct ExitHook {
    ~ExitHook() {
        Cache& c = t_cache;
        for (Cache::Node*& head : c.free)
            while (head) ::operator delete(std::exchange(head, head->next));
        c.held = 0;
        c.state = Cache::kDead;
    }
};

thread_local ExitHook t_exit_hook;

} // namespace

void* get_slow(size_t bytes) {
    const size_t k = class_of(bytes);
    return ::operator new(k < Cache::kClasses ? class_bytes(k) : bytes);
}

void put_slow(void* p, size_t bytes) {
    Cache& c = t_cache;
    const size_t k = class_of(bytes);
    if (k < Cache::kClasses && c.state == Cache::kNew) {
        // The first block this thread keeps: register the hook that frees the kept blocks at its exit.
        (void)&t_exit_hook;
        c.state = Cache::kLive;
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
