// format_test.cpp: the checkpoint file format (every way a file is refused), the directory's keep-two and
// fallback policy, and the runtime pieces a resume relies on (LineReader offsets, OutputFile resume).
#include "compiler/ir/snapshot_bytes.h"
#include "runtime/checkpoint.h"
#include "runtime/checkpointer.h"
#include "runtime/line_reader.h"
#include "runtime/output_file.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace ethogram::runtime;
namespace ir = ethogram::ir;
namespace fs = std::filesystem;

CheckpointHeader header(uint64_t gen) {
    CheckpointHeader h;
    h.generation = gen;
    h.ruleset_hash = blake2b_hex("rules");
    h.run_hash = blake2b_hex("run");
    h.engine_version = "0.1.0";
    return h;
}

class CheckpointFiles : public ::testing::Test {
protected:
    std::string dir;
    void SetUp() override {
        char tmpl[] = "/tmp/etho_ckfmt_XXXXXX";
        dir = ::mkdtemp(tmpl);
    }
    void TearDown() override { fs::remove_all(dir); }
};

TEST(CheckpointFormat, RoundTripsAndRefusesDamage) {
    const std::string payload(1000, 'x');
    const std::string bytes = format_checkpoint(header(7), payload);
    auto ok = parse_checkpoint(bytes);
    ASSERT_TRUE(ok) << ok.error();
    EXPECT_EQ(ok->header.generation, 7u);
    EXPECT_EQ(ok->header.ruleset_hash, blake2b_hex("rules"));
    EXPECT_EQ(ok->header.run_hash, blake2b_hex("run"));
    EXPECT_EQ(ok->header.engine_version, "0.1.0");
    EXPECT_EQ(ok->payload, payload);

    auto why = [](const std::string& b) {
        auto r = parse_checkpoint(b);
        EXPECT_FALSE(r);
        return r ? std::string() : r.error();
    };
    EXPECT_EQ(why(""), "empty file");
    EXPECT_NE(why("ETHOJIT1" + bytes.substr(8)).find("bad magic"), std::string::npos);
    std::string v = bytes;
    v[8] = 9; // format version
    EXPECT_NE(why(v).find("format version 9"), std::string::npos);
    for (size_t cut : {size_t(10), size_t(60), bytes.size() - 1})
        EXPECT_NE(why(bytes.substr(0, cut)).find("truncated"), std::string::npos) << cut;
    EXPECT_NE(why(bytes + "z").find("padded"), std::string::npos);
    for (size_t at : {size_t(20), size_t(100), bytes.size() - 1}) {
        std::string c = bytes;
        c[at] ^= 0x10;
        EXPECT_FALSE(parse_checkpoint(c)) << "a flipped bit at byte " << at << " must be caught";
    }
}

TEST_F(CheckpointFiles, DirectoryKeepsTwoAndFallsBack) {
    auto d = CheckpointDir::open(dir + "/ck");
    ASSERT_TRUE(d) << d.error();
    for (uint64_t g = 1; g <= 4; ++g) ASSERT_TRUE(d->write(header(g), "state " + std::to_string(g)));
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir + "/ck")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    ASSERT_EQ(names.size(), 2u);
    EXPECT_EQ(names[1], "ckpt-00000000000000000004.snap");
    CheckpointDir::Loaded l;
    std::vector<std::string> rejected;
    ASSERT_TRUE(*d->load_latest(l, rejected));
    EXPECT_EQ(l.payload, "state 4");
    EXPECT_TRUE(rejected.empty());
    // Damage the newest: the previous one is used and the rejection names the file and why.
    std::ofstream(dir + "/ck/" + names[1], std::ios::binary | std::ios::trunc) << "ETHOCKPT";
    std::ofstream(dir + "/ck/ckpt-00000000000000000005.snap.tmp") << "half";
    ASSERT_TRUE(*d->load_latest(l, rejected));
    EXPECT_EQ(l.payload, "state 3");
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_NE(rejected[0].find(names[1] + ": truncated"), std::string::npos) << rejected[0];
    EXPECT_FALSE(fs::exists(dir + "/ck/ckpt-00000000000000000005.snap.tmp")) << "leftover temporaries go";
    ASSERT_TRUE(d->clear());
    rejected.clear();
    EXPECT_FALSE(*d->load_latest(l, rejected));
    EXPECT_FALSE(CheckpointDir::open("/proc/ethogram-no-such-dir/x"));
}

TEST_F(CheckpointFiles, RuntimeStateOfAnOlderFormatIsRefusedClearly) {
    // Snapshots whose runtime payload is an older format: 1 (before the run's wall time and resume count
    // were carried) and the sharded 4 (every shard held a reorder heap of all events): refused with the
    // versions named, or dropped on request, never misread.
    for (const uint32_t version : {1u, 4u}) {
        SCOPED_TRACE(version);
        ir::RuleSet rs;
        PipelineOptions opts;
        opts.checkpoint.dir = fmt::format("{}/ck{}", dir, version);
        opts.checkpoint.engine_version = "0.1.0";
        std::string payload;
        ir::SnapWriter w(payload);
        w.u32(version);
        for (int i = 0; i < 20; ++i) w.u64(0);
        CheckpointHeader h = header(3);
        h.ruleset_hash = ruleset_hash(rs);
        h.run_hash = blake2b_hex(opts.checkpoint.run_identity);
        auto d = CheckpointDir::open(opts.checkpoint.dir);
        ASSERT_TRUE(d) << d.error();
        ASSERT_TRUE(d->write(h, payload));
        auto refused = Checkpointer::open(rs, opts);
        ASSERT_FALSE(refused);
        EXPECT_NE(
            refused.error().find(fmt::format("ckpt-00000000000000000003.snap: cannot resume: its runtime "
                                             "state is in format version {} (this engine reads versions "
                                             "3 and 5)",
                                             version)),
            std::string::npos)
            << refused.error();
        EXPECT_NE(refused.error().find("--drop-incompatible-state"), std::string::npos) << refused.error();
        opts.checkpoint.drop_incompatible = true;
        auto fresh = Checkpointer::open(rs, opts);
        ASSERT_TRUE(fresh) << fresh.error();
        EXPECT_FALSE((*fresh)->resuming());
        EXPECT_TRUE(fs::is_empty(opts.checkpoint.dir));
    }
}

TEST_F(CheckpointFiles, LineReaderOffsetsAndSeek) {
    const std::string path = dir + "/in.jsonl";
    std::ofstream(path, std::ios::binary) << "a\n\nbb\r\nccc\nlast";
    auto r = LineReader::open(path);
    ASSERT_TRUE(r);
    std::string_view line;
    std::vector<std::pair<uint64_t, uint64_t>> marks; // (offset, line number) after each line
    std::vector<std::string> seen;
    while ((*r)->next(line)) {
        seen.emplace_back(line);
        marks.emplace_back((*r)->offset(), (*r)->line_number());
    }
    ASSERT_EQ(seen, (std::vector<std::string>{"a", "", "bb", "ccc", "last"}));
    EXPECT_EQ(marks[2].first, 7u);
    for (size_t i = 0; i < marks.size(); ++i) {
        auto r2 = LineReader::open(path);
        ASSERT_TRUE((*r2)->seek(marks[i].first, marks[i].second));
        std::vector<std::string> rest;
        while ((*r2)->next(line)) rest.emplace_back(line);
        EXPECT_EQ(rest, std::vector<std::string>(seen.begin() + static_cast<long>(i) + 1, seen.end()));
        EXPECT_EQ((*r2)->line_number(), 5u);
    }
    auto r3 = LineReader::open(path);
    auto bad = (*r3)->seek(1000, 3);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("truncated or replaced"), std::string::npos) << bad.error();
}

TEST_F(CheckpointFiles, OutputResumeCutsBackAndAppends) {
    const std::string path = dir + "/out.jsonl";
    {
        auto f = OutputFile::open(path);
        ASSERT_TRUE(f);
        (*f)->write("one\n");
        auto len = (*f)->sync();
        ASSERT_TRUE(len);
        EXPECT_EQ(*len, 4u);
        (*f)->write("two (after the checkpoint)\n");
        ASSERT_TRUE((*f)->close());
    }
    {
        auto f = OutputFile::open_resume(path, 4);
        ASSERT_TRUE(f) << f.error();
        (*f)->write("two\n");
        ASSERT_TRUE((*f)->close());
    }
    std::ifstream in(path, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "one\ntwo\n");
    auto shorter = OutputFile::open_resume(path, 100);
    ASSERT_FALSE(shorter);
    EXPECT_NE(shorter.error().find("checkpoint recorded 100"), std::string::npos) << shorter.error();
    EXPECT_FALSE(OutputFile::open_resume(dir + "/missing", 0));
    EXPECT_FALSE(OutputFile::stdout_stream()->sync());
}

} // namespace
