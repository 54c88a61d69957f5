// chunk_scan.h: the parallel runtime's input chunks: read once in whole lines, each line validated once by
// whichever shard claims its block (twice only when a claimer stalls), the results shared read-only by every
// shard (internal to runtime/).
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"
#include "runtime/dead_letter.h"
#include "runtime/decoder.h"
#include "runtime/expected.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::runtime {

/// What every shard reads of a line when it walks the chunk (kept apart from the rest of its block's results:
/// 16 bytes a line, contiguous).
struct LineInfo {
    enum class Kind : uint8_t { Blank, Dead, Event };
    int64_t time = 0;   ///< Event: its time
    uint32_t owner = 0; ///< Event: the shard of its key
    Kind kind = Kind::Blank;
};

class BlockPool;

/// The bytes of a chunk: grows without zeroing what it grows into (the reader reads straight into it) and
/// keeps its capacity across chunks.
class ChunkBytes {
public:
    const char* data() const { return p_.get(); }
    char* data() { return p_.get(); }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    char operator[](size_t i) const { return p_[i]; }
    void clear() { size_ = 0; }
    /// Grows (bytes past the old size are left unset) or shrinks to `n` bytes.
    void resize(size_t n) {
        reserve(n);
        size_ = n;
    }
    void assign(std::string_view s) {
        size_ = 0;
        append(s);
    }
    void append(std::string_view s) {
        reserve(size_ + s.size());
        if (!s.empty()) std::memcpy(p_.get() + size_, s.data(), s.size());
        size_ += s.size();
    }
    void append(size_t n, char c) {
        reserve(size_ + n);
        std::memset(p_.get() + size_, c, n);
        size_ += n;
    }
    /// Room for `n` bytes without growing (keeping the contents).
    void reserve(size_t n) {
        if (n <= cap_) return;
        const size_t cap = std::max(n, cap_ * 2);
        std::unique_ptr<char[]> p(new char[cap]); // uninitialised: written before it is read
        if (size_ != 0) std::memcpy(p.get(), p_.get(), size_);
        p_ = std::move(p);
        cap_ = cap;
    }

private:
    std::unique_ptr<char[]> p_;
    size_t size_ = 0, cap_ = 0;
};

/// What one shard's parse of a block of lines found, in storage that shard owns: it alone writes a block
/// (the buffers stay in its core's cache and its allocator), every shard reads it once published, and it
/// returns to its shard's BlockPool when the chunk is recycled. The owner of each event copies the event
/// out into buffers of its own (it never takes another thread's buffers).
struct ParseBlock {
    std::vector<LineInfo> info; ///< per line of the block: what every shard's walk reads
    /// Per line of the block: what the owner of an event (and shard 0, for dead letters) reads.
    struct Rec {
        uint32_t values = 0;                        ///< Event: its first field in `values`
        uint32_t first = 0, last = 0;               ///< Event: its strings in `strings`; Dead: detail bytes
        uint16_t type = 0;                          ///< Event: its type
        DeadReason reason = DeadReason::ParseError; ///< Dead: why
    };
    std::vector<Rec> recs;
    std::vector<ir::Value> values; ///< the events' fields, every field of each (decode_deferred: no string)
    /// The text of the strings to intern that the chunk's text does not hold as is (escaped strings, an
    /// integer key's or id's digits; the others are ranges of the chunk, `in_source`), and dead letters'
    /// details.
    std::string arena;
    std::vector<DeferredString> strings;
    BlockPool* home = nullptr; ///< the pool of the shard that parses into it
};

/// One shard's parse blocks: taken by that shard only, given back by whichever thread recycles the chunk.
class BlockPool {
public:
    BlockPool() = default;
    BlockPool(const BlockPool&) = delete;
    BlockPool& operator=(const BlockPool&) = delete;
    /// A block to parse into (by the pool's shard).
    ParseBlock* get();
    /// Gives `b` back (any thread; its chunk is being recycled, no shard reads it any more).
    void put(ParseBlock* b);

private:
    std::mutex m_;
    std::vector<ParseBlock*> free_;
    std::vector<std::unique_ptr<ParseBlock>> all_;
};

class ChunkPool;

/// A chunk of whole input lines, read by the reader and shared by every shard. The text and line bounds are
/// read-only once published. Block b (kBlockLines lines) is claimed with an atomic counter by one shard,
/// which parses it into a ParseBlock of its own and publishes it in `blocks[b]` (compare-and-swap from null,
/// release); each shard needs every block, in order, as it walks the chunk (complete_block), and parses
/// itself whatever a stalled claimer has not published yet (the first published result wins; both are the
/// same). Recycled through a ChunkPool (buffers keep their capacity; the parse blocks go back to their
/// shards' pools). The text is followed by kLinePadding readable bytes, so that each line is parsed in place.
struct Chunk {
    static constexpr uint32_t kBlockLines = 64;

    ChunkBytes data;
    std::vector<size_t> line_end; ///< per line: the end of its text (its newline, or the end of `data`)
    uint64_t first_line = 0;      ///< the input line number of the line before this chunk's first
    bool barrier = false;         ///< not input: a checkpoint is due (every shard saves its state and waits)
    /// By block: what its parse found, null until published (block_cap entries, nblocks used).
    std::unique_ptr<std::atomic<ParseBlock*>[]> blocks;
    uint32_t block_cap = 0;
    uint32_t nblocks = 0;
    // On their own cache line: claiming and publishing blocks must not invalidate the line holding the
    // fields above, which every walking shard reads.
    alignas(64) std::atomic<uint32_t> next_block{0}; ///< the next block to claim (may run past nblocks)
    std::atomic<uint32_t> parsed{0};                 ///< blocks published
    char pad_[64 - 2 * sizeof(std::atomic<uint32_t>)] = {};

    size_t lines() const { return line_end.size(); }
    /// Block b's results, once complete_block returned it (acquire: they are visible to the caller).
    const ParseBlock& block(size_t b) const { return *blocks[b].load(std::memory_order_acquire); }
    /// The whole text (lines and padding): what the exported strings of its parse blocks may point into.
    std::string_view text() const { return std::string_view(data.data(), data.size()); }
    /// Line `i`'s text, without its newline or a trailing CR (kLinePadding readable bytes follow it).
    std::string_view line(size_t i) const {
        const size_t begin = i == 0 ? 0 : line_end[i - 1] + 1;
        size_t len = line_end[i] - begin;
        if (len > 0 && data[begin + len - 1] == '\r') --len;
        return std::string_view(data.data() + begin, len);
    }
    /// Readies the blocks for `line_end.size()` lines, nothing claimed or parsed yet.
    void reset_parse();

    /// Where the chunk's lines were counted in by the reader (counted out when it is recycled); null for a
    /// chunk never handed out.
    std::atomic<int64_t>* inflight = nullptr;
};
using ChunkPtr = std::shared_ptr<Chunk>;

/// Recycles chunks (a fresh 1 MiB buffer and thousands of events per chunk cost page faults and allocator
/// work, each freed by another thread than the one that allocated it). Must outlive its chunks.
class ChunkPool {
public:
    ChunkPool() = default;
    ~ChunkPool();
    ChunkPool(const ChunkPool&) = delete;
    ChunkPool& operator=(const ChunkPool&) = delete;
    /// An empty chunk; when the last reference goes, its lines are counted out of its `inflight` and it
    /// comes back here.
    ChunkPtr get();

private:
    void put(Chunk* c);
    std::mutex m_;
    std::vector<Chunk*> free_;
};

/// Reads a file or stdin in chunks of whole lines: at most `max_lines` lines, and no more bytes than
/// `max_bytes` unless one line alone is longer (lines of any length are supported).
class ChunkReader {
public:
    static Expected<std::unique_ptr<ChunkReader>> open(const std::string& path,
                                                       std::atomic<int64_t>* inflight);
    ChunkReader(std::FILE* f, std::string name, bool owned, std::atomic<int64_t>* inflight);
    ~ChunkReader();
    ChunkReader(const ChunkReader&) = delete;
    ChunkReader& operator=(const ChunkReader&) = delete;

    /// The next chunk (data, line bounds and `first_line` = `lines_before` set, ready to parse; its lines
    /// counted into the reader's `inflight` until it is recycled), or nullptr at the end of input or on a
    /// read error.
    ChunkPtr next(size_t max_bytes, uint64_t max_lines, uint64_t lines_before);
    const std::string& error() const { return error_; }
    /// File offset of the first byte not handed out in a chunk yet.
    uint64_t offset() const { return offset_; }
    /// Continues reading at byte `offset` (checkpoint resume); fails on a stream that cannot seek or an
    /// offset past the end of the file.
    Status seek(uint64_t offset);

private:
    std::FILE* f_;
    std::string name_;
    bool owned_;
    std::atomic<int64_t>* inflight_;
    ChunkPool pool_;
    ChunkPtr next_; // the next chunk, holding the start of its first line (read past the previous chunk)
    bool eof_ = false;
    uint64_t offset_ = 0;
    std::string error_;
};

/// One shard's share of the validation: claims blocks of `c` not yet claimed and parses them with
/// `decoder` (decode_deferred, in place: nothing interned, `scratch` the decoded event) into blocks of
/// `pool`, recording each line's result; publishes each block. `shards` is the shard count (for each
/// event's owner). Never waits. Returns the number of blocks parsed.
uint32_t parse_blocks(Chunk& c, Decoder& decoder, BlockPool& pool, ir::Event& scratch, uint32_t shards);

/// What complete_parse did.
struct CompleteResult {
    bool waited = false; ///< some block was still being parsed by another shard
    uint32_t helped = 0; ///< blocks this shard parsed again because their claimer had not published them
};

/// Returns block `b` of `c` once it is published (its results are then visible to the caller). A block still
/// being parsed by another shard is waited for briefly (about as long as a block's parse takes), then parsed
/// again by the caller (same arguments as parse_blocks), so that a claimer that is descheduled (a shared
/// machine, or the reader thread taking its core) never holds the other shards up for longer than that.
/// Never blocks. Adds to `res` what it did. A shard walks a chunk block by block with this, so that it
/// waits only when its walk reaches a block still being parsed, not for the chunk's last block first.
const ParseBlock& complete_block(Chunk& c, uint32_t b, Decoder& decoder, BlockPool& pool, ir::Event& scratch,
                                 uint32_t shards, CompleteResult& res);

/// complete_block for every block of `c`: returns once every block is published.
CompleteResult complete_parse(Chunk& c, Decoder& decoder, BlockPool& pool, ir::Event& scratch,
                              uint32_t shards);

} // namespace ethogram::runtime
