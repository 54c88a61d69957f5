// block_cache.cpp: the slow paths of the block cache (block_cache.h): carving, taking in another chunk,
// giving an empty chunk back, frees from other threads, and the thread exit.
#include "compiler/interp/block_cache.h"

#include "compiler/interp/chunk_source.h"

#include <mutex>
#include <utility>

namespace ethogram::interp::blocks::detail {

static_assert(kChunkBytes == kSourceChunkBytes, "the chunk source hands out the block cache's chunks");

/// A thread's identity in its chunks. Outlives the thread while any chunk it made is in use (`chunks`
/// counts them after its exit), so that a free never compares against a reused address.
struct Owner {
    bool alive = true;      // under the lock: set false by the exit hook
    uint64_t chunks = 0;    // after the exit: chunks still in use (the last one's release deletes this)
    Chunk* adopt = nullptr; // under the lock: chunks other threads freed blocks into (`queued`)
    std::atomic<bool> pending{false}; // `adopt` is not empty (read without the lock by the owner)
};

namespace {

std::atomic<uint64_t> g_live_chunks{0};

/// Serialises frees into other threads' chunks with their owners' exit (rare: the shards make and free
/// their state on their own thread). Never destroyed: threads may exit during static destruction.
std::mutex& lock() {
    static auto* mu = new std::mutex;
    return *mu;
}

/// The owner of the chunks made after a thread's exit hook ran (a block per chunk, counted under the
/// lock like an exited thread's).
Owner g_dead{false, 0};

void link_partial(Cache& c, Chunk* ch) {
    ch->prev = nullptr;
    ch->next = c.partial[ch->cls];
    if (ch->next) ch->next->prev = ch;
    c.partial[ch->cls] = ch;
    ch->linked = true;
}

void unlink_partial(Cache& c, Chunk* ch) {
    (ch->prev ? ch->prev->next : c.partial[ch->cls]) = ch->next;
    if (ch->next) ch->next->prev = ch->prev;
}

void unlink_all(Cache& c, Chunk* ch) {
    (ch->all_prev ? ch->all_prev->all_next : c.all) = ch->all_next;
    if (ch->all_next) ch->all_next->all_prev = ch->all_prev;
}

void delete_chunk(Chunk* ch) {
    // A dead thread's chunk is a block of its own (get_dead); every other comes from the chunk source.
    const bool own = ch->owner == &g_dead;
    ch->~Chunk();
    if (own)
        ::operator delete(static_cast<void*>(ch));
    else
        chunk_free(ch);
    g_live_chunks.fetch_sub(1, std::memory_order_relaxed);
}

/// Lays out an empty chunk of class k at `mem` for `owner`: nothing carved yet.
Chunk* init_chunk(void* mem, size_t k, Owner* owner, size_t bytes) {
    auto* ch = new (mem) Chunk{};
    ch->bump = static_cast<char*>(mem) + kFirstPrefix + 8;
    ch->end = static_cast<char*>(mem) + bytes;
    ch->owner = owner;
    ch->cls = static_cast<uint16_t>(k);
    return ch;
}

/// Takes the blocks other threads freed into ch's free list (the owner, or anyone under the lock after
/// the owner's exit).
void take_remote(Chunk* ch) {
    if (!ch->remote.load(std::memory_order_relaxed)) return;
    Node* n = ch->remote.exchange(nullptr, std::memory_order_acquire);
    while (n) {
        Node* next = n->next;
        n->next = ch->free;
        ch->free = n;
        --ch->live;
        n = next;
    }
}

/// Gives back ch, empty and not the current chunk of its class (or keeps it as the spare).
void release(Cache& c, Chunk* ch) {
    if (ch->linked) unlink_partial(c, ch);
    unlink_all(c, ch);
    if (c.spare)
        delete_chunk(ch);
    else
        c.spare = ch;
}

/// The owner takes in the blocks other threads freed into its chunks (the adopt list): a chunk that is
/// now empty goes back, one with free blocks joins the partial list. Without it, a full chunk whose
/// blocks another thread freed (an engine pushed on one thread and destroyed on another, or moved between
/// a pool's threads) would be held until its owner's exit. Under the lock, so that no remote free
/// enlists a chunk while it is taken off the list.
void adopt(Cache& c) {
    std::lock_guard<std::mutex> g(lock());
    Owner* o = c.owner;
    Chunk* ch = std::exchange(o->adopt, nullptr);
    o->pending.store(false, std::memory_order_relaxed);
    while (ch) {
        Chunk* next = ch->adopt_next;
        ch->queued.store(false, std::memory_order_relaxed);
        take_remote(ch);
        if (c.cur[ch->cls] != ch) {
            if (ch->live == 0)
                release(c, ch);
            else if (!ch->linked && ch->free)
                link_partial(c, ch);
        }
        ch = next;
    }
}

/// Hands out the next block never handed out of ch (which has one).
void* carve(Chunk* ch) {
    char* p = ch->bump;
    *reinterpret_cast<Chunk**>(p - 8) = ch;
    ch->bump = p + carve_stride(ch->cls);
    ++ch->live;
    return p;
}

bool can_carve(const Chunk* ch) {
    return ch->bump + class_bytes(ch->cls) <= ch->end;
}

/// Abandons this thread's chunks (those in use wait for their last free under the lock) and frees what
/// its cache holds; blocks got after that come from chunks of one block each.
struct ExitHook {
    ~ExitHook() {
        Cache& c = t_cache;
        if (Owner* o = c.owner) {
            std::lock_guard<std::mutex> g(lock());
            o->alive = false;
            for (Chunk* ch = c.all; ch;) {
                Chunk* next = ch->all_next;
                take_remote(ch);
                if (ch->live == 0)
                    delete_chunk(ch);
                else
                    ++o->chunks;
                ch = next;
            }
            if (o->chunks == 0) delete o;
        }
        if (c.spare) delete_chunk(c.spare);
        for (Node*& head : c.free)
            while (head) ::operator delete(std::exchange(head, head->next));
        c = Cache{};
        c.state = Cache::kDead;
    }
};

thread_local ExitHook t_exit_hook;

void go_live(Cache& c) {
    (void)&t_exit_hook;
    c.state = Cache::kLive;
}

/// A block from a chunk of its own, for a thread whose exit hook ran (static destruction).
void* get_dead(size_t k) {
    const size_t bytes = kFirstPrefix + 8 + class_bytes(k);
    Chunk* ch = init_chunk(::operator new(bytes), k, &g_dead, bytes);
    g_live_chunks.fetch_add(1, std::memory_order_relaxed);
    return carve(ch);
}

} // namespace

void* get_carve(size_t k) {
    Cache& c = t_cache;
    if (c.state != Cache::kLive) {
        if (c.state == Cache::kDead) return get_dead(k);
        go_live(c);
    }
    if (!c.owner) c.owner = new Owner;
    if (Chunk* ch = c.cur[k]) {
        take_remote(ch);
        if (Node* n = ch->free) {
            ch->free = n->next;
            ++ch->live;
            return n;
        }
        if (can_carve(ch)) return carve(ch);
        // Every block is out: off the lists until a free links it again.
        ch->linked = false;
        c.cur[k] = nullptr;
    }
    if (!c.partial[k] && c.owner->pending.load(std::memory_order_relaxed)) adopt(c);
    if (Chunk* ch = c.partial[k]) {
        // A chunk with free blocks becomes the current one (it stays `linked`).
        unlink_partial(c, ch);
        c.cur[k] = ch;
        take_remote(ch);
        Node* n = ch->free;
        ch->free = n->next;
        ++ch->live;
        return n;
    }
    void* mem = c.spare ? std::exchange(c.spare, nullptr) : nullptr;
    if (!mem) {
        mem = chunk_alloc();
        g_live_chunks.fetch_add(1, std::memory_order_relaxed);
    }
    Chunk* ch = init_chunk(mem, k, c.owner, kChunkBytes);
    ch->all_next = c.all;
    if (c.all) c.all->all_prev = ch;
    c.all = ch;
    ch->linked = true;
    c.cur[k] = ch;
    return carve(ch);
}

void put_carved_slow(void* p, Chunk* ch) {
    Cache& c = t_cache;
    auto* n = static_cast<Node*>(p);
    if (ch->owner == c.owner) {
        n->next = ch->free;
        ch->free = n;
        --ch->live;
        // The last live block: the chunk goes back whole (or is kept as the spare), its free blocks
        // unread; one in the adopt list stays (linked, as it has free blocks) until the adopt gives it back.
        if (ch->live == 0 && c.cur[ch->cls] != ch && !ch->queued.load(std::memory_order_acquire)) {
            release(c, ch);
            return;
        }
        if (!ch->linked) link_partial(c, ch);
        return;
    }
    // Another thread's chunk.
    std::lock_guard<std::mutex> g(lock());
    Owner* o = ch->owner;
    if (o->alive) {
        // Enlisted before the push, so that the owner, once it takes this block in (an acquire that
        // pairs with the push's release), sees the chunk is in its adopt list and does not give it back.
        if (!ch->queued.load(std::memory_order_relaxed)) {
            ch->queued.store(true, std::memory_order_relaxed);
            ch->adopt_next = o->adopt;
            o->adopt = ch;
            o->pending.store(true, std::memory_order_release);
        }
        Node* head = ch->remote.load(std::memory_order_relaxed);
        do n->next = head;
        while (
            !ch->remote.compare_exchange_weak(head, n, std::memory_order_release, std::memory_order_relaxed));
        return;
    }
    if (--ch->live != 0) return;
    delete_chunk(ch);
    if (o != &g_dead && --o->chunks == 0) delete o;
}

void* get_slow(size_t bytes) {
    const size_t k = class_of(bytes);
    return ::operator new(k < Cache::kClasses ? class_bytes(k) : bytes);
}

void put_slow(void* p, size_t bytes) {
    Cache& c = t_cache;
    const size_t k = class_of(bytes);
    if (k < Cache::kClasses && c.state == Cache::kNew) {
        // The first block this thread keeps: register the hook that frees the kept blocks at its exit.
        go_live(c);
        put(p, bytes);
        return;
    }
    ::operator delete(p);
}

uint64_t live_chunks() {
    return g_live_chunks.load(std::memory_order_relaxed);
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
