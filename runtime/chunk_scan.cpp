// chunk_scan.cpp: reading chunks of whole lines, and validating each line once (see chunk_scan.h).
#include "runtime/chunk_scan.h"

#include "runtime/line_stage.h"
#include "runtime/shard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ethogram::runtime {

namespace {

/// The reader's fread size (see ChunkReader::next).
constexpr size_t kReadStep = size_t{32} << 10;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

} // namespace

ParseBlock* BlockPool::get() {
    std::lock_guard<std::mutex> lock(m_);
    if (!free_.empty()) {
        ParseBlock* b = free_.back();
        free_.pop_back();
        return b;
    }
    all_.push_back(std::make_unique<ParseBlock>());
    all_.back()->home = this;
    return all_.back().get();
}

void BlockPool::put(ParseBlock* b) {
    std::lock_guard<std::mutex> lock(m_);
    free_.push_back(b);
}

void Chunk::reset_parse() {
    const size_t n = line_end.size();
    nblocks = static_cast<uint32_t>((n + kBlockLines - 1) / kBlockLines);
    if (block_cap < nblocks) { // a recycled chunk's blocks were all given back (ChunkPool::put)
        blocks = std::make_unique<std::atomic<ParseBlock*>[]>(nblocks);
        for (uint32_t b = 0; b < nblocks; ++b) blocks[b].store(nullptr, std::memory_order_relaxed);
        block_cap = nblocks;
    }
    next_block.store(0, std::memory_order_relaxed);
    parsed.store(0, std::memory_order_relaxed);
}

ChunkPool::~ChunkPool() {
    for (Chunk* c : free_) delete c;
}

ChunkPtr ChunkPool::get() {
    Chunk* c = nullptr;
    {
        std::lock_guard<std::mutex> lock(m_);
        if (!free_.empty()) {
            c = free_.back();
            free_.pop_back();
        }
    }
    if (c == nullptr) c = new Chunk();
    c->inflight = nullptr;
    return ChunkPtr(c, [this](Chunk* p) { put(p); });
}

void ChunkPool::put(Chunk* c) {
    if (c->inflight) c->inflight->fetch_sub(static_cast<int64_t>(c->lines()), std::memory_order_relaxed);
    if (c->mapped != nullptr) {
        // Drops the chunk's own pages from the process (those it shares with a neighbour stay): the mapping
        // then holds only the chunks in flight. Pages read again (a neighbour's padding) come back from the
        // page cache as they were.
        static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
        const uintptr_t from = (reinterpret_cast<uintptr_t>(c->mapped) + page - 1) & ~(page - 1);
        const uintptr_t to = (reinterpret_cast<uintptr_t>(c->mapped) + c->mapped_size) & ~(page - 1);
        if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
        c->mapped = nullptr;
        c->mapped_size = 0;
    }
    c->data.clear();
    c->line_end.clear();
    // The last reference is gone: no shard reads or publishes into this chunk any more.
    for (uint32_t i = 0; i < c->block_cap; ++i)
        if (ParseBlock* b = c->blocks[i].exchange(nullptr, std::memory_order_acquire); b != nullptr)
            b->home->put(b);
    std::lock_guard<std::mutex> lock(m_);
    free_.push_back(c);
}

Expected<std::unique_ptr<ChunkReader>> ChunkReader::open(const std::string& path,
                                                         std::atomic<int64_t>* inflight) {
    if (path == "-") return std::make_unique<ChunkReader>(stdin, "<stdin>", false, inflight);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
    return std::make_unique<ChunkReader>(f, path, true, inflight);
}

ChunkReader::ChunkReader(std::FILE* f, std::string name, bool owned, std::atomic<int64_t>* inflight)
    : f_(f), name_(std::move(name)), owned_(owned), inflight_(inflight) {
    // A regular file opened here is mapped (stdin is always read as a stream); when that fails it is read.
    struct stat st {};
    if (!owned_ || ::fstat(::fileno(f_), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) <= kLinePadding)
        return;
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, ::fileno(f_), 0);
    if (p == MAP_FAILED) return;
    map_ = static_cast<const char*>(p);
    map_size_ = static_cast<size_t>(st.st_size);
}

ChunkReader::~ChunkReader() {
    next_.reset();
    if (map_ != nullptr) ::munmap(const_cast<char*>(map_), map_size_);
    if (owned_) std::fclose(f_);
}

ChunkPtr ChunkReader::next_mapped(size_t max_bytes, uint64_t max_lines, uint64_t lines_before) {
    const size_t begin = offset_;
    ChunkPtr c = pool_.get();
    std::vector<size_t>& ends = c->line_end;
    size_t cut = begin;
    uint64_t lines = 0;
    bool at_end = false; // no newline left in the mapping
    while (lines < max_lines) {
        const void* nl = std::memchr(map_ + cut, '\n', map_size_ - cut);
        if (nl == nullptr) {
            at_end = true;
            break;
        }
        const size_t at = static_cast<size_t>(static_cast<const char*>(nl) - map_);
        if (lines > 0 && at + 1 - begin > max_bytes) break;
        ends.push_back(at - begin);
        cut = at + 1;
        ++lines;
    }
    // A chunk that reaches the end of the mapping (its last line has no newline there, or fewer than
    // kLinePadding bytes follow it) is read from the stream, like everything after it: the same chunks as
    // reading it all would give at the end of the file, and whatever was appended since it was opened.
    if (at_end || cut + kLinePadding > map_size_) {
        map_done_ = true;
        ends.clear();
        if (::fseeko(f_, static_cast<off_t>(begin), SEEK_SET) != 0)
            error_ = fmt::format("{}: cannot seek: {}", name_, std::strerror(errno));
        return nullptr;
    }
    c->mapped = map_ + begin;
    c->mapped_size = cut - begin;
    offset_ = cut;
    return hand_out(std::move(c), lines_before);
}

ChunkPtr ChunkReader::hand_out(ChunkPtr c, uint64_t lines_before) {
    c->first_line = lines_before;
    c->reset_parse();
    c->inflight = inflight_;
    inflight_->fetch_add(static_cast<int64_t>(c->lines()), std::memory_order_relaxed);
    return c;
}

ChunkPtr ChunkReader::next(size_t max_bytes, uint64_t max_lines, uint64_t lines_before) {
    if (map_ != nullptr && !map_done_) {
        if (ChunkPtr c = next_mapped(max_bytes, max_lines, lines_before)) return c;
        if (!error_.empty()) return nullptr;
    }
    // The chunk read ahead into (it starts with what the last read brought past the previous chunk).
    ChunkPtr c = next_ ? std::move(next_) : pool_.get();
    ChunkBytes& buf = c->data;
    std::vector<size_t>& ends = c->line_end;
    // A chunk's usual size at once (a recycled chunk has it already), not by doubling, which copies the
    // bytes read so far at each step.
    buf.reserve(max_bytes + kReadStep + kLinePadding);
    size_t scan = 0;
    uint64_t lines = 0;
    size_t cut = 0;
    for (;;) {
        while (lines < max_lines && scan < buf.size()) {
            const void* nl = std::memchr(buf.data() + scan, '\n', buf.size() - scan);
            if (nl == nullptr) {
                scan = buf.size();
                break;
            }
            const size_t at = static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
            ends.push_back(at);
            scan = at + 1;
            cut = scan;
            ++lines;
        }
        if (lines == max_lines) break;
        if (eof_) {
            if (cut < buf.size()) { // the last line, without its newline
                ++lines;
                ends.push_back(buf.size());
            }
            cut = buf.size();
            break;
        }
        if (buf.size() >= max_bytes && lines > 0) break;
        // Reads in steps of 32 KiB, so that what is read past the chunk's last line (copied to the next
        // chunk) stays small when the line count ends the chunk before the byte budget does.
        const size_t old = buf.size();
        buf.resize(old + kReadStep);
        const size_t n = std::fread(buf.data() + old, 1, buf.size() - old, f_);
        buf.resize(old + n);
        if (n == 0) {
            eof_ = true;
            if (std::ferror(f_)) error_ = fmt::format("{}: read failed: {}", name_, std::strerror(errno));
        }
    }
    // What was read past the cut starts the next chunk: copied once, straight into it (the padding below
    // overwrites it here).
    if (cut < buf.size()) {
        next_ = pool_.get();
        next_->data.reserve(max_bytes + kReadStep + kLinePadding);
        next_->data.assign(std::string_view(buf.data() + cut, buf.size() - cut));
    }
    buf.resize(cut);
    offset_ += cut;
    if (buf.empty() || !error_.empty()) return nullptr;
    buf.append(kLinePadding, ' '); // each line is parsed in place (Chunk::line)
    return hand_out(std::move(c), lines_before);
}

Status ChunkReader::seek(uint64_t offset) {
    if (::fseeko(f_, 0, SEEK_END) != 0)
        return Error{fmt::format("{}: cannot seek (a checkpoint needs a regular file): {}", name_,
                                 std::strerror(errno))};
    const auto size = ::ftello(f_);
    if (size < 0 || static_cast<uint64_t>(size) < offset)
        return Error{fmt::format("{}: the file has {} bytes but the checkpoint was taken at byte {} (was "
                                 "the input truncated or replaced?)",
                                 name_, size, offset)};
    if (::fseeko(f_, static_cast<off_t>(offset), SEEK_SET) != 0)
        return Error{fmt::format("{}: cannot seek: {}", name_, std::strerror(errno))};
    offset_ = offset;
    next_.reset();
    map_done_ = false; // the mapped part from `offset`, if any is left
    return ok_status();
}

namespace {

/// Parses block `b` of `c` into a block of `pool` and publishes it, unless another shard published it first
/// (then the copy goes back to the pool). Returns whether this parse was the one published.
bool parse_block(Chunk& c, uint32_t b, Decoder& decoder, BlockPool& pool, ir::Event& scratch,
                 uint32_t shards) {
    ParseBlock& blk = *pool.get();
    blk.values.clear();
    blk.arena.clear();
    blk.strings.clear();
    const size_t begin = size_t{b} * Chunk::kBlockLines;
    const size_t end = std::min<size_t>(c.lines(), begin + Chunk::kBlockLines);
    blk.recs.resize(end - begin);
    blk.info.resize(end - begin);
    for (size_t i = begin; i < end; ++i) {
        LineInfo& info = blk.info[i - begin];
        ParseBlock::Rec& r = blk.recs[i - begin];
        const std::string_view text = c.line(i);
        if (LineStage::is_blank(text)) {
            info.kind = LineInfo::Kind::Blank;
            continue;
        }
        if (!decoder.decode_deferred(text, c.first_line + i + 1, scratch, true)) {
            info.kind = LineInfo::Kind::Dead;
            r.reason = decoder.error().reason;
            r.first = static_cast<uint32_t>(blk.arena.size());
            blk.arena.append(decoder.error().detail);
            r.last = static_cast<uint32_t>(blk.arena.size());
            continue;
        }
        info.kind = LineInfo::Kind::Event;
        info.time = scratch.time;
        info.owner = shard_of(decoder.key_text(), shards);
        r.type = scratch.type;
        r.values = static_cast<uint32_t>(blk.values.size());
        blk.values.insert(blk.values.end(), scratch.fields.begin(), scratch.fields.end());
        r.first = static_cast<uint32_t>(blk.strings.size());
        decoder.export_deferred(blk.arena, blk.strings);
        r.last = static_cast<uint32_t>(blk.strings.size());
    }
    // Release: the block's contents become visible to whoever loads the pointer with acquire. Parsing is
    // deterministic, so when another shard published this block first (this shard helped a stalled
    // claimer, or was the stalled claimer), its result is the same and this copy is dropped.
    ParseBlock* expected = nullptr;
    if (!c.blocks[b].compare_exchange_strong(expected, &blk, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
        pool.put(&blk);
        return false;
    }
    c.parsed.fetch_add(1, std::memory_order_acq_rel);
    return true;
}

} // namespace

uint32_t parse_blocks(Chunk& c, Decoder& decoder, BlockPool& pool, ir::Event& scratch, uint32_t shards) {
    uint32_t parsed = 0;
    for (;;) {
        const uint32_t b = c.next_block.fetch_add(1, std::memory_order_relaxed);
        if (b >= c.nblocks) return parsed;
        if (parse_block(c, b, decoder, pool, scratch, shards)) ++parsed;
    }
}

const ParseBlock& complete_block(Chunk& c, uint32_t b, Decoder& decoder, BlockPool& pool, ir::Event& scratch,
                                 uint32_t shards, CompleteResult& res) {
    if (const ParseBlock* blk = c.blocks[b].load(std::memory_order_acquire)) return *blk;
    res.waited = true;
    // A block takes about 100 us to parse (64 lines): a claimer that is running publishes within about
    // that long; one that is not (descheduled: the reader thread took its core, or another process) could
    // take a time slice or more, while this shard idles. So wait about two blocks' time, then parse the
    // block here (at most one block's work lost when the claimer was about to publish).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    for (int spin = 1;; ++spin) {
        cpu_relax();
        if (const ParseBlock* blk = c.blocks[b].load(std::memory_order_acquire)) return *blk;
        if (spin % 64 == 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
    if (parse_block(c, b, decoder, pool, scratch, shards)) ++res.helped;
    return *c.blocks[b].load(std::memory_order_acquire); // this parse's, or the claimer's published first
}

CompleteResult complete_parse(Chunk& c, Decoder& decoder, BlockPool& pool, ir::Event& scratch,
                              uint32_t shards) {
    CompleteResult res;
    for (uint32_t b = 0; b < c.nblocks; ++b) complete_block(c, b, decoder, pool, scratch, shards, res);
    return res;
}

} // namespace ethogram::runtime
