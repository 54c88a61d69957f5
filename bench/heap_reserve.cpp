// heap_reserve.cpp: the warm heap of `etho bench` (heap_reserve.h).
#include "bench/heap_reserve.h"

#include "compiler/interp/chunk_source.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

namespace ethogram::bench {

namespace {

/// Small for every allocator in use: oneTBB serves it from 16 KiB slabs, glibc from its heap (far below
/// the mmap threshold); one block per MiB kept is about 0.1% of the reserve.
constexpr size_t kBlock = 1024;
constexpr unsigned kWindowShift = 20; // one block kept per MiB of addresses

} // namespace

HeapReserve::HeapReserve(size_t bytes) {
    if (bytes < kBlock) return;
    reserve_chunks(bytes);
    std::vector<void*> all(bytes / kBlock);
    for (void*& p : all) {
        p = ::operator new(kBlock);
        std::memset(p, 0x5a, kBlock); // the first touch of its page happens here, not in a timed run
    }
    bytes_ = all.size() * kBlock;
    // By address: the lowest block of each MiB window stays, whatever order the allocator handed them out.
    std::sort(all.begin(), all.end(), [](void* a, void* b) {
        return reinterpret_cast<uintptr_t>(a) < reinterpret_cast<uintptr_t>(b);
    });
    uintptr_t window = UINTPTR_MAX;
    for (void* p : all) {
        const uintptr_t w = reinterpret_cast<uintptr_t>(p) >> kWindowShift;
        if (w != window) {
            kept_.push_back(p);
            window = w;
        } else {
            ::operator delete(p, kBlock);
        }
    }
}

HeapReserve::~HeapReserve() {
    for (void* p : kept_) ::operator delete(p, kBlock);
    if (regions_ != 0) interp::blocks::detail::keep_empty_regions(1);
}

void HeapReserve::reserve_chunks(size_t bytes) {
    namespace src = interp::blocks::detail;
    regions_ = bytes / src::kRegionBytes;
    if (regions_ == 0) return;
    // The engines' chunks come from the chunk source's regions, not from the allocator: as many regions
    // made, touched and emptied again, kept mapped for the timed runs.
    src::keep_empty_regions(regions_);
    std::vector<void*> chunks(regions_ * (src::kRegionBytes / src::kSourceChunkBytes));
    for (void*& p : chunks) {
        p = src::chunk_alloc();
        std::memset(p, 0x5a, src::kSourceChunkBytes);
    }
    for (void* p : chunks) src::chunk_free(p);
}

} // namespace ethogram::bench
