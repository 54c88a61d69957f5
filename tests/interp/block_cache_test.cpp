// block_cache_test.cpp: the interpreter's block cache (compiler/interp/block_cache.h): blocks are usable
// at their full size, freed blocks come back per size class, and a block freed on another thread is reused
// there.
#include "compiler/interp/block_cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace ethogram::interp {
namespace {

TEST(BlockCache, BlocksHoldTheirBytesAndDoNotOverlap) {
    std::vector<std::pair<char*, size_t>> live;
    for (size_t bytes : {8u, 24u, 56u, 88u, 100u, 1000u, 4104u, 5000u})
        for (int i = 0; i < 300; ++i) {
            auto* p = static_cast<char*>(blocks::get(bytes));
            std::memset(p, i & 0xff, bytes);
            live.emplace_back(p, bytes);
        }
    for (size_t i = 0; i < live.size(); ++i)
        for (size_t b = 0; b < live[i].second; ++b) // nothing written later overlapped an earlier block
            ASSERT_EQ(static_cast<unsigned char>(live[i].first[b]),
                      static_cast<unsigned char>((i % 300) & 0xff));
    for (auto [p, bytes] : live) blocks::put(p, bytes);
}

TEST(BlockCache, FreedBlocksAreReusedWithinTheirClass) {
    if (!blocks::kRecycle) GTEST_SKIP() << "every block is its own allocation under AddressSanitizer";
    void* a = blocks::get(88);
    blocks::put(a, 88);
    EXPECT_EQ(blocks::get(81), a); // 81 and 88 bytes: one class (blocks of 88)
    blocks::put(a, 81);
    void* b = blocks::get(72); // another class: not a
    EXPECT_NE(b, a);
    blocks::put(b, 72);
}

TEST(BlockCache, ThreadsFreeEachOthersBlocksAndReuseThem) {
    std::vector<void*> made(1000);
    std::thread maker([&] {
        for (void*& p : made) p = blocks::get(200);
    });
    maker.join();
    std::set<void*> reused;
    std::thread freer([&] {
        for (void* p : made) blocks::put(p, 200); // 1000 blocks of 200 bytes: within the thread's bound
        for (size_t i = 0; i < made.size(); ++i) reused.insert(blocks::get(200));
        for (void* p : reused) blocks::put(p, 200);
    }); // exits holding them: its exit hook frees them (LeakSanitizer would report them otherwise)
    freer.join();
    if (!blocks::kRecycle) return;
    EXPECT_EQ(reused, std::set<void*>(made.begin(), made.end()));
}

TEST(BlockCache, VectorsGrowThroughTheAllocator) {
    std::vector<int, blocks::Allocator<int>> v;
    for (int i = 0; i < 10000; ++i) v.push_back(i);
    for (int i = 0; i < 10000; ++i) ASSERT_EQ(v[i], i);
    std::vector<int, blocks::Allocator<int>> w = std::move(v);
    EXPECT_EQ(w.size(), 10000u);
}

} // namespace
} // namespace ethogram::interp
