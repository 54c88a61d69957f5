// chunk_source_test.cpp: the block cache's chunk source (compiler/interp/chunk_source.h): chunks are
// aligned, distinct and whole, come back for reuse, an empty region is unmapped but for one spare, and
// threads allocate and free each other's chunks.
#include "compiler/interp/chunk_source.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace ethogram::interp::blocks::detail {
namespace {

constexpr size_t kPerRegion = kRegionBytes / kSourceChunkBytes;

TEST(ChunkSource, ChunksAreAlignedDistinctAndWhole) {
    std::vector<char*> chunks;
    for (size_t i = 0; i < 3 * kPerRegion + 5; ++i) {
        auto* p = static_cast<char*>(chunk_alloc());
        ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % kSourceChunkBytes, 0u);
        std::memset(p, static_cast<int>(i & 0xff), kSourceChunkBytes);
        chunks.push_back(p);
    }
    EXPECT_EQ(std::set<char*>(chunks.begin(), chunks.end()).size(), chunks.size());
    for (size_t i = 0; i < chunks.size(); ++i) // no chunk written later overlapped an earlier one
        for (size_t b = 0; b < kSourceChunkBytes; b += 4093)
            ASSERT_EQ(static_cast<unsigned char>(chunks[i][b]), static_cast<unsigned char>(i & 0xff));
    for (char* p : chunks) chunk_free(p);
}

TEST(ChunkSource, AFreedChunkIsReused) {
    void* keep = chunk_alloc(); // the region stays mapped while it holds a chunk
    void* a = chunk_alloc();
    chunk_free(a);
    EXPECT_EQ(chunk_alloc(), a);
    chunk_free(a);
    chunk_free(keep);
}

TEST(ChunkSource, EmptyRegionsAreUnmappedButForOneSpare) {
    const uint64_t before = mapped_regions();
    std::vector<void*> chunks(4 * kPerRegion);
    for (void*& p : chunks) p = chunk_alloc();
    const uint64_t during = mapped_regions();
    EXPECT_GE(during, before + 3); // four regions' worth of chunks (some may fill a region mapped before)
    for (void* p : chunks) chunk_free(p);
    // What these chunks took is given back, but one empty region may be kept for the next allocation.
    EXPECT_LE(mapped_regions(), before + 1);
    // The kept region is used first: allocating a region's worth maps nothing new (every chunk was
    // returned, so at least one empty region is kept).
    const uint64_t after = mapped_regions();
    for (size_t i = 0; i < kPerRegion; ++i) chunks[i] = chunk_alloc();
    EXPECT_EQ(mapped_regions(), after);
    for (size_t i = 0; i < kPerRegion; ++i) chunk_free(chunks[i]);
}

TEST(ChunkSource, ThreadsAllocateAndFreeEachOthersChunks) {
    const uint64_t before = mapped_regions();
    constexpr int kThreads = 4, kEach = 200;
    std::vector<std::vector<void*>> made(kThreads);
    std::vector<std::thread> makers;
    for (int t = 0; t < kThreads; ++t)
        makers.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                void* p = chunk_alloc();
                static_cast<char*>(p)[0] = static_cast<char>(t);
                made[static_cast<size_t>(t)].push_back(p);
                if (i % 3 == 0) { // some go back at once, on the thread that made them
                    chunk_free(made[static_cast<size_t>(t)].back());
                    made[static_cast<size_t>(t)].pop_back();
                }
            }
        });
    for (std::thread& m : makers) m.join();
    std::set<void*> all;
    for (const auto& v : made) all.insert(v.begin(), v.end());
    size_t total = 0;
    for (const auto& v : made) total += v.size();
    EXPECT_EQ(all.size(), total); // no chunk handed out twice
    std::vector<std::thread> freers;
    for (int t = 0; t < kThreads; ++t) // each thread frees another's
        freers.emplace_back([&, t] {
            for (void* p : made[static_cast<size_t>((t + 1) % kThreads)]) chunk_free(p);
        });
    for (std::thread& f : freers) f.join();
    EXPECT_LE(mapped_regions(), before + 1);
}

} // namespace
} // namespace ethogram::interp::blocks::detail
