// heap_reserve.h: `etho bench`'s warm heap: small-object memory the allocator keeps mapped and touched for
// every timed run alike, so that no matcher's time includes the kernel's first touch of fresh pages.
#pragma once

#include <cstddef>
#include <vector>

namespace ethogram::bench {

/// Grows the heap by `bytes` in small blocks, writes every page, then frees all but one block per MiB of
/// address space, and keeps those until destroyed. Why: oneTBB's scalable allocator (etho's malloc) unmaps a
/// region of small-object slabs (4 MiB) the moment its last slab is freed, and glibc's malloc trims the top
/// of its heap, while large blocks (the engines' 64 KiB chunks, hash tables, vectors) stay in the large
/// object cache. A matcher whose state is small objects (the hand-written baseline's deques and hash
/// nodes) then gets fresh pages on every run, each a minor page fault, and one whose state is large blocks
/// does not (docs/performance-history.md, "`etho bench`: the same heap for every matcher"). The kept blocks
/// pin the regions, so the freed room stays mapped for whichever run needs it next: process-wide, the same
/// for every engine and the baseline. The engines' 64 KiB chunks come from the interpreter's chunk source
/// (compiler/interp/chunk_source.h), not from the allocator: as many bytes of its regions are touched and
/// kept mapped too. `bytes` 0: nothing kept (the allocator's own behaviour).
class HeapReserve {
public:
    explicit HeapReserve(size_t bytes);
    ~HeapReserve();
    HeapReserve(const HeapReserve&) = delete;
    HeapReserve& operator=(const HeapReserve&) = delete;

    /// Bytes allocated and written (the reserve's size; all but kept_blocks() of them freed again).
    size_t bytes() const { return bytes_; }
    /// Blocks still held, one per MiB of the reserve's addresses.
    size_t kept_blocks() const { return kept_.size(); }

private:
    void reserve_chunks(size_t bytes);
    std::vector<void*> kept_;
    size_t bytes_ = 0;
    size_t regions_ = 0; ///< chunk-source regions kept mapped while the reserve lives
};

} // namespace ethogram::bench
