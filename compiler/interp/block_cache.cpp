// block_cache.cpp: the per-thread cache of freed blocks (block_cache.h).
#include "compiler/interp/block_cache.h"

#include <cstdint>
#include <new>
#include <utility>

namespace ethogram::interp::blocks {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRecycle = false; // let AddressSanitizer see every block's lifetime
#else
constexpr bool kRecycle = true;
#endif

/// Freed blocks kept for reuse, per size class, per thread. Stored events are freed when their last
/// reference goes, usually minutes of stream time after they were made and in bursts (a window's or a
/// session's events at once), and the arrays of partial matches and rings are freed each time they
/// double: glibc then consolidated and split chunks, or served a fresh chunk from the top of the heap
/// (malloc and free were about a sixth of the matcher's time). A list per class is a pop and a push.
/// Bounded (kMaxBytes per thread, the rest goes back to the allocator); thread-local because several
/// interpreters may run on several threads (`--threads`), and a block freed on another thread than the
/// one that made it is simply reused there.
class Cache {
public:
    static constexpr size_t kClasses = 257;                  // class c: blocks of 16 c + 8 bytes
    static constexpr uint64_t kMaxBytes = uint64_t{1} << 20; // held per thread

    static size_t class_of(size_t bytes) { return (bytes + 7) / 16; }
    static size_t class_bytes(size_t c) { return c * 16 + 8; }

    ~Cache() {
        for (Node*& head : free_)
            while (head) ::operator delete(std::exchange(head, head->next));
    }
    void* get(size_t bytes) {
        const size_t c = class_of(bytes);
        if (c >= kClasses) return ::operator new(bytes);
        Node* n = free_[c];
        if (!n) return ::operator new(class_bytes(c));
        free_[c] = n->next;
        held_ -= class_bytes(c);
        return n;
    }
    void put(void* p, size_t bytes) {
        const size_t c = class_of(bytes);
        if (c >= kClasses || held_ + class_bytes(c) > kMaxBytes) {
            ::operator delete(p);
            return;
        }
        auto* n = static_cast<Node*>(p);
        n->next = free_[c];
        free_[c] = n;
        held_ += class_bytes(c);
    }

private:
    struct Node {
        Node* next;
    };
    Node* free_[kClasses] = {};
    uint64_t held_ = 0;
};

thread_local Cache t_cache;

} // namespace

void* get(size_t bytes) {
    return kRecycle ? t_cache.get(bytes) : ::operator new(bytes);
}

void put(void* p, size_t bytes) {
    if (kRecycle)
        t_cache.put(p, bytes);
    else
        ::operator delete(p);
}

} // namespace ethogram::interp::blocks
