// model_file_test.cpp: the model container: round trips, and every way a file can be refused.
#include "models/model_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace ethogram::models {
namespace {

ModelMeta sample_meta() {
    ModelMeta m;
    m.kind = "markov";
    m.engine_version = kEngineVersion;
    m.training_data_hash = "0123abcd";
    m.sequences = 3;
    m.events = 42;
    m.hyper_params = {{"order", "2"}, {"discount", "0.75"}, {"odd key=with\nnewline", "v=1\n2"}};
    m.created_unix = 1'780'000'000;
    return m;
}

class ModelFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ethogram_model_file_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string path(const char* name) const { return (dir_ / name).string(); }
    static void write_raw(const std::string& p, const std::vector<uint8_t>& b) {
        std::ofstream(p, std::ios::binary)
            .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    }
    std::filesystem::path dir_;
};

const std::vector<uint8_t> kPayload = {1, 2, 3, 0, 255, 7};

TEST_F(ModelFileTest, RoundTripKeepsMetaAndPayload) {
    std::string p = path("m.etm");
    ASSERT_TRUE(write_model_file(p, sample_meta(), kPayload).ok());
    auto got = read_model_file(p);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(got->meta, sample_meta());
    EXPECT_EQ(got->payload, kPayload);
    // No temporary file is left behind by the atomic write.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
}

TEST_F(ModelFileTest, LayoutIsAsDocumented) {
    std::vector<uint8_t> b = encode_model_file(sample_meta(), kPayload);
    EXPECT_EQ(std::memcmp(b.data(), "ETHOGRAM-MODEL\0\0", 16), 0);
    EXPECT_EQ(b[16], kModelFormatVersion); // u32 little-endian
    EXPECT_EQ(b[17] | b[18] | b[19], 0);
    uint32_t header_len = b[20] | b[21] << 8 | b[22] << 16 | static_cast<uint32_t>(b[23]) << 24;
    // magic 16 + version 4 + header length 4 + header + payload length 8 + payload 6 + checksum 32.
    EXPECT_EQ(b.size(), 16 + 4 + 4 + header_len + 8 + 6 + 32);
    EXPECT_EQ(b[24 + header_len], 6); // payload length, low byte
}

TEST_F(ModelFileTest, EmptyPayloadRoundTrips) {
    std::string p = path("empty_payload.etm");
    ASSERT_TRUE(write_model_file(p, sample_meta(), {}).ok());
    auto got = read_model_file(p);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_TRUE(got->payload.empty());
}

TEST_F(ModelFileTest, MissingFileIsRefused) {
    auto got = read_model_file(path("nope.etm"));
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error().find("nope.etm"), std::string::npos) << got.error();
    EXPECT_NE(got.error().find("No such file"), std::string::npos) << got.error();
}

TEST_F(ModelFileTest, EmptyFileIsRefused) {
    std::string p = path("empty.etm");
    write_raw(p, {});
    auto got = read_model_file(p);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error(), p + ": empty file, not a model");
}

TEST_F(ModelFileTest, WrongMagicIsRefused) {
    std::vector<uint8_t> b = encode_model_file(sample_meta(), kPayload);
    b[0] = 'X';
    auto got = decode_model_file(b, "m.etm");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error(), "m.etm: not an Ethogram model file (bad magic)");
}

TEST_F(ModelFileTest, OtherFormatVersionsAreRefusedByName) {
    for (uint8_t v : {uint8_t{0}, uint8_t{2}, uint8_t{200}}) {
        std::vector<uint8_t> b = encode_model_file(sample_meta(), kPayload);
        b[16] = v;
        auto got = decode_model_file(b, "m.etm");
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.error(), "m.etm: model format version " + std::to_string(v) + ", this engine reads 1");
    }
}

TEST_F(ModelFileTest, EveryTruncationIsRefused) {
    std::vector<uint8_t> b = encode_model_file(sample_meta(), kPayload);
    for (size_t n = 1; n < b.size(); ++n) {
        auto got = decode_model_file(std::span(b).first(n), "m.etm");
        ASSERT_FALSE(got.ok()) << "prefix of " << n << " bytes accepted";
        EXPECT_EQ(got.error().rfind("m.etm: ", 0), 0u) << got.error();
    }
    std::string p = path("cut.etm");
    write_raw(p, std::vector<uint8_t>(b.begin(), b.end() - 1));
    auto got = read_model_file(p);
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error().find("truncated"), std::string::npos) << got.error();
}

TEST_F(ModelFileTest, TrailingBytesAreRefused) {
    std::vector<uint8_t> b = encode_model_file(sample_meta(), kPayload);
    b.push_back(0);
    auto got = decode_model_file(b, "m.etm");
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error().find("trailing"), std::string::npos) << got.error();
}

TEST_F(ModelFileTest, EveryFlippedByteIsRefused) {
    std::vector<uint8_t> b = encode_model_file(sample_meta(), kPayload);
    size_t checksum_errors = 0;
    for (size_t i = 0; i < b.size(); ++i) {
        for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
            std::vector<uint8_t> c = b;
            c[i] ^= mask;
            auto got = decode_model_file(c, "m.etm");
            ASSERT_FALSE(got.ok()) << "flip of byte " << i << " accepted";
            if (got.error() == "m.etm: checksum mismatch, the model file is corrupt") ++checksum_errors;
        }
    }
    // Flips in the magic, version and length fields are caught by the earlier, more specific checks; every
    // flip in the header, payload or checksum itself is a checksum mismatch.
    EXPECT_GE(checksum_errors, 2 * (b.size() - 16 - 4 - 4 - 8));
}

TEST_F(ModelFileTest, WriteIntoMissingDirectoryFails) {
    auto st = write_model_file(path("no/such/dir/m.etm"), sample_meta(), kPayload);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("cannot create"), std::string::npos) << st.error();
}

TEST(TrainingDataHash, IsBlake2bAndFramed) {
    // Nothing added: the BLAKE2b-256 of the empty string (RFC 7693 reference implementation).
    EXPECT_EQ(TrainingDataHash().hex(), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    auto of = [](std::vector<std::vector<std::string>> seqs) {
        TrainingDataHash h;
        for (const auto& s : seqs) h.add_sequence(s);
        return h.hex();
    };
    std::string base = of({{"ab", "c"}, {"d"}});
    EXPECT_EQ(base.size(), 64u);
    EXPECT_EQ(of({{"ab", "c"}, {"d"}}), base); // deterministic
    EXPECT_NE(of({{"a", "bc"}, {"d"}}), base); // symbol boundaries count
    EXPECT_NE(of({{"ab", "c", "d"}}), base);   // sequence boundaries count
    EXPECT_NE(of({{"d"}, {"ab", "c"}}), base); // order counts
    TrainingDataHash h;
    std::string before = h.hex();
    h.add_label("bot");
    EXPECT_NE(h.hex(), before);
    EXPECT_EQ(h.hex(), h.hex()); // hex() does not consume the state
}

TEST(ByteCodec, ScalarsRoundTripAndOverrunsFail) {
    ByteWriter w;
    w.u8(9);
    w.u32(0xdeadbeef);
    w.u64(0x0102030405060708ull);
    w.f64(-0.1);
    w.str("abc");
    std::vector<uint8_t> b = w.take();
    ASSERT_EQ(b.size(), 1u + 4 + 8 + 8 + 4 + 3);
    EXPECT_EQ(b[1], 0xef); // little-endian
    ByteReader r(b);
    uint8_t a = 0;
    uint32_t x = 0;
    uint64_t y = 0;
    double d = 0;
    std::string s;
    ASSERT_TRUE(r.u8(a) && r.u32(x) && r.u64(y) && r.f64(d) && r.str(s));
    EXPECT_EQ(a, 9);
    EXPECT_EQ(x, 0xdeadbeefu);
    EXPECT_EQ(y, 0x0102030405060708ull);
    EXPECT_EQ(d, -0.1);
    EXPECT_EQ(s, "abc");
    EXPECT_EQ(r.remaining(), 0u);
    EXPECT_FALSE(r.u8(a));
    EXPECT_FALSE(r.ok());
}

} // namespace
} // namespace ethogram::models
