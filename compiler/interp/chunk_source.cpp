// chunk_source.cpp: the block cache's chunks carved from 2 MiB regions advised for transparent huge pages.
//
// Why: the engine's state is hundreds of MiB of small blocks, touched first where they are made. With 4 KiB
// pages every 4 KiB of new state costs a page fault, and on a VM a fault costs several microseconds: 134,000
// faults were about a fifth of a 2M-event `etho run`, and a random walk over the keys' state misses the TLB
// at every level. A 2 MiB region backed by one huge page takes one fault and one TLB entry. Neither glibc's
// malloc (without its tunable) nor oneTBB's (unless THP is "always") asks for huge pages where the system
// leaves it to the program (THP "madvise", the common default), so the chunks are mapped here.
//
// Chunk allocation is rare (once per 64 KiB of state), so one mutex guards the regions.
#include "compiler/interp/chunk_source.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ethogram::interp::blocks::detail {

namespace {

constexpr size_t kPerRegion = kRegionBytes / kSourceChunkBytes;

struct FreeChunk {
    FreeChunk* next;
};

/// A mapped region: its chunks handed out (`live`), returned ones (`free`), and those never handed out
/// (from `carved` on).
struct Region {
    char* base = nullptr;
    FreeChunk* free = nullptr;
    uint32_t live = 0;
    uint32_t carved = 0;
    Region* prev = nullptr; // in the list of regions with a chunk to give (`listed`)
    Region* next = nullptr;
    bool listed = false;
};

class Source {
public:
    void* get() {
        std::lock_guard<std::mutex> g(m_);
        Region* r = avail_;
        if (!r) {
            if (!spare_.empty()) {
                r = spare_.back();
                spare_.pop_back();
            } else {
                r = map_region();
            }
            link(r);
        }
        void* p;
        if (r->free) {
            p = r->free;
            r->free = r->free->next;
        } else {
            p = r->base + size_t{r->carved++} * kSourceChunkBytes;
        }
        ++r->live;
        if (!r->free && r->carved == kPerRegion) unlink(r);
        return p;
    }

    void put(void* p) {
        std::lock_guard<std::mutex> g(m_);
        const auto base = reinterpret_cast<uintptr_t>(p) & ~(uintptr_t{kRegionBytes} - 1);
        Region* r = regions_.at(base);
        auto* f = static_cast<FreeChunk*>(p);
        f->next = r->free;
        r->free = f;
        --r->live;
        if (r->live != 0) {
            if (!r->listed) link(r);
            return;
        }
        // Empty: kept (carved again from its start) while fewer than `keep_` are, else unmapped.
        if (r->listed) unlink(r);
        if (spare_.size() < keep_) {
            r->free = nullptr;
            r->carved = 0;
            spare_.push_back(r);
            return;
        }
        unmap_region(r);
    }

    void keep(size_t n) {
        std::lock_guard<std::mutex> g(m_);
        keep_ = n;
        while (spare_.size() > keep_) {
            unmap_region(spare_.back());
            spare_.pop_back();
        }
    }

    uint64_t regions() {
        std::lock_guard<std::mutex> g(m_);
        return regions_.size();
    }

private:
    Region* map_region() {
        char* base = nullptr;
#if defined(__linux__)
        // Twice the size, then the unaligned ends unmapped: a region aligned to its size, which is what a
        // huge page needs and what lets put() find the region of a chunk.
        void* m =
            ::mmap(nullptr, 2 * kRegionBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) throw std::bad_alloc();
        const auto a = reinterpret_cast<uintptr_t>(m);
        const uintptr_t aligned = (a + kRegionBytes - 1) & ~(uintptr_t{kRegionBytes} - 1);
        if (aligned != a) ::munmap(m, aligned - a);
        const uintptr_t tail = aligned + kRegionBytes, end = a + 2 * kRegionBytes;
        if (tail != end) ::munmap(reinterpret_cast<void*>(tail), end - tail);
        base = reinterpret_cast<char*>(aligned);
#if defined(MADV_HUGEPAGE)
        // Only advice: without THP (or with THP "never") the region is 4 KiB pages as before.
        if (want_huge_) (void)::madvise(base, kRegionBytes, MADV_HUGEPAGE);
#endif
#else
        base = static_cast<char*>(::operator new (kRegionBytes, std::align_val_t{kRegionBytes}));
#endif
        auto* r = new Region;
        r->base = base;
        regions_.emplace(reinterpret_cast<uintptr_t>(base), r);
        return r;
    }

    void unmap_region(Region* r) {
        regions_.erase(reinterpret_cast<uintptr_t>(r->base));
#if defined(__linux__)
        ::munmap(r->base, kRegionBytes);
#else
        ::operator delete (r->base, std::align_val_t{kRegionBytes});
#endif
        delete r;
    }

    void link(Region* r) {
        r->prev = nullptr;
        r->next = avail_;
        if (avail_) avail_->prev = r;
        avail_ = r;
        r->listed = true;
    }

    void unlink(Region* r) {
        (r->prev ? r->prev->next : avail_) = r->next;
        if (r->next) r->next->prev = r->prev;
        r->listed = false;
    }

    std::mutex m_;
    std::unordered_map<uintptr_t, Region*> regions_;
    Region* avail_ = nullptr;    // regions with a free or uncarved chunk
    std::vector<Region*> spare_; // empty regions kept mapped (at most keep_)
    size_t keep_ = 1;
    /// ETHOGRAM_HUGE_PAGES=0 leaves the regions to the system's default (4 KiB pages under THP `madvise`):
    /// for a host where huge-page faults stall on compaction, and to measure what the advice is worth.
    const bool want_huge_ = [] {
        const char* v = std::getenv("ETHOGRAM_HUGE_PAGES");
        return v == nullptr || std::strcmp(v, "0") != 0;
    }();
};

/// Never destroyed: chunks are returned by threads that exit during static destruction.
Source& source() {
    static auto* s = new Source;
    return *s;
}

} // namespace

void* chunk_alloc() {
    return source().get();
}

void chunk_free(void* p) {
    source().put(p);
}

uint64_t mapped_regions() {
    return source().regions();
}

void keep_empty_regions(size_t n) {
    source().keep(n);
}

} // namespace ethogram::interp::blocks::detail
