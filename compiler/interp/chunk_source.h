// chunk_source.h: where the block cache's 64 KiB chunks come from: 2 MiB regions that the kernel is asked to
// back with transparent huge pages. Internal header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ethogram::interp::blocks::detail {

/// Bytes of one chunk (block_cache.h's kChunkBytes) and of one region (32 chunks).
inline constexpr size_t kSourceChunkBytes = 65536;
inline constexpr size_t kRegionBytes = size_t{2} << 20;

/// A chunk of kSourceChunkBytes, 64 KiB-aligned, from any thread. Throws std::bad_alloc when no memory can
/// be mapped (as ::operator new would).
void* chunk_alloc();

/// Returns a chunk from chunk_alloc (any thread). A region whose chunks are all returned is unmapped, unless
/// fewer than keep_empty_regions() empty regions are kept for reuse.
void chunk_free(void* p);

/// How many empty regions stay mapped for reuse (default 1; excess ones are unmapped now). `etho bench` keeps
/// its heap reserve's worth, so that no timed run pays the kernel's first touch of fresh pages.
void keep_empty_regions(size_t n);

/// Regions mapped now (tests).
uint64_t mapped_regions();

} // namespace ethogram::interp::blocks::detail
