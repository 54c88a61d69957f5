// teardown.cpp: what freeing a large per-key state costs through the interpreter's block cache
// (compiler/interp/block_cache.h), against plain ::operator new / delete in the same run.
// Usage: build/bin/teardown_bench [USERS=60] [COPIES=100] [EVENTS_PER_KEY=60] [REPEAT=3]. Builds the blocks
// of USERS x COPIES keys the way bench/replicate.py's scaled streams do (the `etho run` x100 measurements):
// USERS' events in random order, each one written COPIES times for the copies of its user (keys u~0 ..
// u~99 one after another), each a stored event of its type's size, each key's array of partial matches
// doubling as it grows; then frees them key by key in the order the keys were created, as destroying the
// key table does, and reports ns per block of the build and the teardown for both, and the ratios (block
// cache / plain). Consecutive blocks belong to the copies of one user, so a chunk's blocks are freed
// close together and chunks empty all along the teardown. The teardown is what matcher_profile's instruction
// counts do not see (its toggle stops before it): a cache whose release walked its free blocks (the reverted
// carving's sweep) showed here as a teardown several times slower than plain delete.
#include "compiler/interp/block_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace ethogram::interp;

double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Block {
    void* p;
    uint32_t bytes;
};

struct Key {
    std::vector<Block> events;
    void* matches = nullptr;
    uint32_t match_bytes = 0;
};

struct Plain {
    static void* get(size_t bytes) { return ::operator new(bytes); }
    static void put(void* p, size_t) { ::operator delete(p); }
};

struct Cached {
    static void* get(size_t bytes) { return blocks::get(bytes); }
    static void put(void* p, size_t bytes) { blocks::put(p, bytes); }
};

struct Times {
    double build = 0, teardown = 0;
    uint64_t blocks = 0;
};

template <class A>
Times run(const std::vector<uint32_t>& order, const std::vector<uint32_t>& sizes, size_t keys) {
    std::vector<Key> state(keys);
    for (Key& k : state) k.events.reserve(64);
    Times t;
    const double t0 = cpu_now();
    for (size_t i = 0; i < order.size(); ++i) {
        Key& k = state[order[i]];
        void* e = A::get(sizes[i]);
        std::memset(e, 1, 16); // a stored event's header is written when it is made
        k.events.push_back({e, sizes[i]});
        ++t.blocks;
        if (k.events.size() % 8 == 1) {
            // The array of partial matches grows by doubling: a new block, the old one freed.
            const uint32_t bytes = k.match_bytes == 0 ? 48 : std::min<uint32_t>(k.match_bytes * 2, 1024);
            if (bytes != k.match_bytes) {
                void* m = A::get(bytes);
                std::memset(m, 2, 16);
                if (k.matches) A::put(k.matches, k.match_bytes);
                k.matches = m;
                k.match_bytes = bytes;
                ++t.blocks;
            }
        }
    }
    const double t1 = cpu_now();
    for (Key& k : state) {
        for (const Block& b : k.events) A::put(b.p, b.bytes);
        if (k.matches) A::put(k.matches, k.match_bytes);
    }
    const double t2 = cpu_now();
    t.build = t1 - t0;
    t.teardown = t2 - t1;
    return t;
}

} // namespace

int main(int argc, char** argv) {
    const size_t users = argc > 1 ? std::stoul(argv[1]) : 60;
    const size_t copies = argc > 2 ? std::stoul(argv[2]) : 100;
    const size_t per_key = argc > 3 ? std::stoul(argv[3]) : 60;
    const int repeat = argc > 4 ? std::stoi(argv[4]) : 3;
    const size_t keys = users * copies;
    std::mt19937_64 rng(20261130);
    std::vector<uint32_t> user_order;
    for (uint32_t u = 0; u < users; ++u)
        for (size_t i = 0; i < per_key; ++i) user_order.push_back(u);
    std::shuffle(user_order.begin(), user_order.end(), rng);
    // Key ids in creation order: the copies of the user whose event came first, then the next new user's.
    std::vector<uint32_t> first(users, UINT32_MAX);
    uint32_t next_key = 0;
    for (uint32_t u : user_order)
        if (first[u] == UINT32_MAX) {
            first[u] = next_key;
            next_key += static_cast<uint32_t>(copies);
        }
    std::vector<uint32_t> order;
    std::vector<uint32_t> sizes;
    // Stored events of four types (their sizes as the e-commerce example's: 8 bytes per field and a header).
    const uint32_t kSizes[] = {88, 120, 152, 216};
    for (uint32_t u : user_order) {
        const uint32_t bytes = kSizes[rng() % 4];
        for (uint32_t c = 0; c < copies; ++c) {
            order.push_back(first[u] + c);
            sizes.push_back(bytes);
        }
    }

    Times best_plain, best_cached;
    for (int r = 0; r < repeat; ++r) {
        // Alternated, so that both see the allocator in about the same state.
        const Times p = run<Plain>(order, sizes, keys);
        const Times c = run<Cached>(order, sizes, keys);
        if (r == 0 || p.build + p.teardown < best_plain.build + best_plain.teardown) best_plain = p;
        if (r == 0 || c.build + c.teardown < best_cached.build + best_cached.teardown) best_cached = c;
    }
    auto ns = [](double s, uint64_t n) { return s * 1e9 / static_cast<double>(n); };
    fmt::print(
        "teardown: {} users x {} copies = {} keys, {} events each, {} blocks; best of {} (thread CPU)\n",
        users, copies, keys, per_key, best_plain.blocks, repeat);
    fmt::print("  plain new/delete: build {:.1f} ns/block, teardown {:.1f} ns/block\n",
               ns(best_plain.build, best_plain.blocks), ns(best_plain.teardown, best_plain.blocks));
    fmt::print("  block cache:      build {:.1f} ns/block, teardown {:.1f} ns/block\n",
               ns(best_cached.build, best_cached.blocks), ns(best_cached.teardown, best_cached.blocks));
    fmt::print("  ratio (cache / plain): build {:.2f}x, teardown {:.2f}x, live chunks after {}\n",
               best_cached.build / best_plain.build, best_cached.teardown / best_plain.teardown,
               blocks::detail::live_chunks());
    return 0;
}
