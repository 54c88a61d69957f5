// chunk_scan.cpp: reading chunks of whole lines, and validating each line once (see chunk_scan.h).
#include "runtime/chunk_scan.h"

#include "runtime/line_stage.h"
#include "runtime/shard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

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
    : f_(f), name_(std::move(name)), owned_(owned), inflight_(inflight) {}

ChunkReader::~ChunkReader() {
    if (owned_) std::fclose(f_);
}

ChunkPtr ChunkReader::next(size_t max_bytes, uint64_t max_lines, uint64_t lines_before) {
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
    c->first_line = lines_before;
    c->reset_parse();
    c->inflight = inflight_;
    inflight_->fetch_add(static_cast<int64_t>(c->lines()), std::memory_order_relaxed);
    return c;
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
        // The strings as they stand in the line are left in the chunk's text (every shard walks the chunk
        // before it is recycled): only escaped strings and integers' decimal text are copied.
        decoder.export_deferred(blk.arena, blk.strings, c.text());
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
