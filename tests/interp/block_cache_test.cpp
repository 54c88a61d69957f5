// block_cache_test.cpp: the interpreter's block cache (compiler/interp/block_cache.h): blocks are usable
// at their full size, freed blocks come back per size class, a chunk goes back with its last block, and
// blocks freed on another thread than their chunk's go back too.
#include "compiler/interp/block_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
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

TEST(BlockCache, ThreadsFreeEachOthersBlocks) {
    // Blocks made on a thread that has exited, freed on another: their chunks go back with the last one.
    const uint64_t chunks0 = blocks::detail::live_chunks();
    std::vector<void*> made(1000);
    std::thread maker([&] {
        for (void*& p : made) p = blocks::get(200);
    });
    maker.join();
    std::thread freer([&] {
        for (void* p : made) blocks::put(p, 200);
    });
    freer.join();
    EXPECT_EQ(blocks::detail::live_chunks(), chunks0);
}

TEST(BlockCache, BlocksFreedWhileTheirThreadRunsGoBackAtItsExit) {
    const uint64_t chunks0 = blocks::detail::live_chunks();
    std::vector<void*> made(1000);
    std::mutex mu;
    std::condition_variable cv;
    int phase = 0;
    std::thread maker([&] {
        for (void*& p : made) p = blocks::get(200);
        std::unique_lock<std::mutex> lock(mu);
        phase = 1;
        cv.notify_all();
        cv.wait(lock, [&] { return phase == 2; });
        void* again = blocks::get(200); // takes in the blocks the other thread freed into its current chunk
        blocks::put(again, 200);
    });
    {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return phase == 1; });
        for (void* p : made) blocks::put(p, 200); // into the maker's chunks, which it still owns
        phase = 2;
        cv.notify_all();
    }
    maker.join();
    EXPECT_EQ(blocks::detail::live_chunks(), chunks0);
}

TEST(BlockCache, ChunksAnotherThreadEmptiedAreReusedWhileTheirOwnerRuns) {
    // An engine pushed on one thread and destroyed on another (or moved between a pool's threads): the
    // owner's full chunks, emptied by the other thread, are adopted the next time it needs a chunk, so that
    // making and freeing such a batch again and again does not grow the chunks held.
    if (!blocks::kRecycle) GTEST_SKIP() << "every block is its own allocation under AddressSanitizer";
    const uint64_t chunks0 = blocks::detail::live_chunks();
    const size_t per_chunk = blocks::detail::carve_count(blocks::detail::class_of(200));
    std::vector<void*> made(per_chunk * 10);
    std::mutex mu;
    std::condition_variable cv;
    int round = 0, freed = 0;
    uint64_t most = 0;
    std::thread maker([&] {
        for (int r = 1; r <= 5; ++r) {
            for (void*& p : made) p = blocks::get(200);
            most = std::max(most, blocks::detail::live_chunks() - chunks0);
            std::unique_lock<std::mutex> lock(mu);
            round = r;
            cv.notify_all();
            cv.wait(lock, [&] { return freed == r; });
        }
    });
    std::thread freer([&] {
        for (int r = 1; r <= 5; ++r) {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return round == r; });
            for (void* p : made) blocks::put(p, 200); // into the maker's chunks, which it still owns
            freed = r;
            cv.notify_all();
        }
    });
    freer.join();
    maker.join();
    // Ten chunks a round; held until the maker's exit, five rounds would have needed fifty.
    EXPECT_LE(most, 12u);
    EXPECT_EQ(blocks::detail::live_chunks(), chunks0);
}

TEST(BlockCache, AChunkGoesBackWithItsLastBlock) {
    if (!blocks::kRecycle) GTEST_SKIP() << "every block is its own allocation under AddressSanitizer";
    const uint64_t chunks0 = blocks::detail::live_chunks();
    std::thread t([&] {
        const size_t per_chunk = blocks::detail::carve_count(blocks::detail::class_of(200));
        std::vector<void*> made(per_chunk * 10);
        for (void*& p : made) p = blocks::get(200);
        EXPECT_EQ(blocks::detail::live_chunks(), chunks0 + 10);
        for (size_t i = 0; i < made.size(); i += 2) blocks::put(made[i], 200); // every chunk half free
        EXPECT_EQ(blocks::detail::live_chunks(), chunks0 + 10);
        for (size_t i = 1; i < made.size(); i += 2) blocks::put(made[i], 200);
        // The current chunk stays, one empty chunk is kept as the spare, the other 8 went back.
        EXPECT_EQ(blocks::detail::live_chunks(), chunks0 + 2);
        for (void*& p : made) p = blocks::get(200); // reused: the current chunk, the spare, then new ones
        EXPECT_EQ(blocks::detail::live_chunks(), chunks0 + 10);
        for (void* p : made) blocks::put(p, 200);
    });
    t.join();
    EXPECT_EQ(blocks::detail::live_chunks(), chunks0); // the exit gave back the current chunk and the spare
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
