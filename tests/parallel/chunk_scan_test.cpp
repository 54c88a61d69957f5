// chunk_scan_test.cpp: the shared validation of a chunk's lines: a block whose claimer stalls is parsed
// again by a shard that needs it (complete_parse), the first result published wins, and every way of
// getting there gives the same per-line results (concurrently too: parallel_tests run under TSan).
#include "tests/interp/ir_builder.h"

#include "runtime/chunk_scan.h"
#include "runtime/shard.h"
#include "runtime/time.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace ethogram::parallel_test {
namespace {

using interp::testing::kSec;

struct Rules {
    interp::testing::IrBuilder b;
    Rules() {
        const uint16_t cart = b.event("cart");
        b.threshold("any_cart", interp::testing::over_session(b.session("visit", 60 * kSec, -1, {cart}),
                                                              b.b(true), true));
    }
};

// 300 lines: events of many keys, a few bad lines and blank lines, so that blocks hold every kind.
std::string stream() {
    const int64_t t0 = 1'800'000'000LL * kSec;
    std::string s;
    for (int i = 0; i < 300; ++i) {
        if (i % 37 == 5)
            s += "{not json\n";
        else if (i % 41 == 7)
            s += "\n";
        else
            s += fmt::format("{{\"type\":\"cart\",\"key\":\"u{}\",\"ts\":\"{}\"}}\n", i % 23,
                             runtime::format_rfc3339(t0 + i * kSec));
    }
    return s;
}

/// One shard's parsing state (a decoder over its own pool, its own blocks).
struct Parser {
    ir::StringPool pool;
    std::unique_ptr<runtime::Decoder> decoder;
    runtime::BlockPool blocks;
    ir::Event scratch;
    explicit Parser(const ir::RuleSet& rs) {
        ir::seed_string_pool(rs, pool);
        decoder = std::make_unique<runtime::Decoder>(rs, pool);
    }
};

/// Every line's published result, as text: kind, time, owner, type, dead-letter reason and detail, fields
/// and strings to intern.
std::string results(const runtime::Chunk& c) {
    std::string out;
    for (size_t b = 0; b < c.nblocks; ++b) {
        const runtime::ParseBlock& blk = c.block(b);
        for (size_t j = 0; j < blk.info.size(); ++j) {
            const runtime::LineInfo& info = blk.info[j];
            const runtime::ParseBlock::Rec& r = blk.recs[j];
            out += fmt::format("{}:", static_cast<int>(info.kind));
            if (info.kind == runtime::LineInfo::Kind::Dead) {
                out += fmt::format("{} {}", static_cast<int>(r.reason),
                                   blk.arena.substr(r.first, r.last - r.first));
            } else if (info.kind == runtime::LineInfo::Kind::Event) {
                out += fmt::format("{} {} {} {}", info.time, info.owner, r.type, r.last - r.first);
                for (uint32_t s = r.first; s < r.last; ++s) {
                    const runtime::DeferredString& d = blk.strings[s];
                    // A string left in the chunk's text, or copied to the block's arena: its text either way.
                    const std::string_view text = d.in_source ? c.text() : std::string_view(blk.arena);
                    out += fmt::format(" {}={}", d.slot, text.substr(d.offset, d.size));
                }
            }
            out += '\n';
        }
    }
    return out;
}

class ChunkScan : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = (std::filesystem::temp_directory_path() / fmt::format("etho-chunk-scan-{}.jsonl", ::getpid()))
                    .string();
        std::FILE* f = std::fopen(path_.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        const std::string s = stream();
        ASSERT_EQ(std::fwrite(s.data(), 1, s.size(), f), s.size());
        std::fclose(f);
    }
    void TearDown() override { std::filesystem::remove(path_); }

    /// The whole stream as one chunk, read anew (nothing claimed or parsed yet).
    runtime::ChunkPtr chunk(std::unique_ptr<runtime::ChunkReader>& keep) {
        auto r = runtime::ChunkReader::open(path_, &inflight_);
        EXPECT_TRUE(static_cast<bool>(r));
        keep = std::move(*r);
        runtime::ChunkPtr c = keep->next(1 << 20, 1000, 0);
        EXPECT_NE(c, nullptr);
        EXPECT_EQ(c->lines(), 300u);
        EXPECT_EQ(c->nblocks, 5u);
        return c;
    }

    Rules rules_;
    std::string path_;
    std::atomic<int64_t> inflight_{0};
};

TEST_F(ChunkScan, ParallelStalledClaimerIsHelped) {
    Parser a(rules_.b.rs), b(rules_.b.rs);
    std::unique_ptr<runtime::ChunkReader> ra, rb;

    // The reference: one shard claims and parses every block; nothing left to complete.
    runtime::ChunkPtr ref = chunk(ra);
    EXPECT_EQ(runtime::parse_blocks(*ref, *a.decoder, a.blocks, a.scratch, 2), 5u);
    const runtime::CompleteResult none = runtime::complete_parse(*ref, *b.decoder, b.blocks, b.scratch, 2);
    EXPECT_FALSE(none.waited);
    EXPECT_EQ(none.helped, 0u);
    const std::string expected = results(*ref);

    // Every block claimed by a shard that never gets to parse it (descheduled): the other shard waits
    // briefly, then parses them all itself.
    runtime::ChunkPtr c = chunk(rb);
    c->next_block.store(c->nblocks);
    EXPECT_EQ(runtime::parse_blocks(*c, *a.decoder, a.blocks, a.scratch, 2), 0u); // nothing left to claim
    const runtime::CompleteResult helped = runtime::complete_parse(*c, *b.decoder, b.blocks, b.scratch, 2);
    EXPECT_TRUE(helped.waited);
    EXPECT_EQ(helped.helped, 5u);
    EXPECT_EQ(c->parsed.load(), 5u);
    EXPECT_EQ(results(*c), expected);

    // The stalled claimer resumes: its results are dropped (the published ones stay) and its blocks go
    // back to its pool.
    std::vector<const runtime::ParseBlock*> published;
    for (size_t i = 0; i < c->nblocks; ++i) published.push_back(&c->block(i));
    c->next_block.store(0);
    EXPECT_EQ(runtime::parse_blocks(*c, *a.decoder, a.blocks, a.scratch, 2), 0u);
    for (size_t i = 0; i < c->nblocks; ++i) EXPECT_EQ(&c->block(i), published[i]);
    EXPECT_EQ(c->parsed.load(), 5u);
    EXPECT_EQ(results(*c), expected);
}

TEST_F(ChunkScan, ParallelConcurrentClaimsAndHelpAgree) {
    Parser ref_parser(rules_.b.rs);
    std::unique_ptr<runtime::ChunkReader> rr;
    runtime::ChunkPtr ref = chunk(rr);
    runtime::parse_blocks(*ref, *ref_parser.decoder, ref_parser.blocks, ref_parser.scratch, 3);
    const std::string expected = results(*ref);

    // Three shards on many fresh chunks: each claims what it can, then completes (helping whatever is
    // still unpublished, possibly while its claimer is parsing it). Every shard then reads the same results.
    std::vector<std::unique_ptr<Parser>> parsers;
    for (int s = 0; s < 3; ++s) parsers.push_back(std::make_unique<Parser>(rules_.b.rs));
    for (int round = 0; round < 20; ++round) {
        std::unique_ptr<runtime::ChunkReader> keep;
        runtime::ChunkPtr c = chunk(keep);
        std::vector<std::string> seen(3);
        std::vector<std::thread> threads;
        for (int s = 0; s < 3; ++s)
            threads.emplace_back([&, s] {
                Parser& p = *parsers[s];
                // Shard s starts at a different point: some claim nothing, some help while others parse.
                if (s != round % 3) runtime::parse_blocks(*c, *p.decoder, p.blocks, p.scratch, 3);
                runtime::complete_parse(*c, *p.decoder, p.blocks, p.scratch, 3);
                seen[s] = results(*c);
            });
        for (std::thread& t : threads) t.join();
        for (int s = 0; s < 3; ++s) EXPECT_EQ(seen[s], expected) << "round " << round << " shard " << s;
        EXPECT_EQ(c->parsed.load(), c->nblocks);
    }
}

} // namespace
} // namespace ethogram::parallel_test
