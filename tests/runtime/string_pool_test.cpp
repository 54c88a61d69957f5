// string_pool_test.cpp: the string pool's ids against a map, over look-alike texts of every length.
#include "compiler/ir/event.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace ethogram::ir {
namespace {

// Texts that differ from each other in one byte, at the start, the middle or the end, of lengths 0 to
// 300 (the inline compare's 1..3, 4..7, 8..16 and memcmp cases, and lengths of a 2-byte prefix), with
// NUL bytes inside: a compare that skipped a byte or trusted the hash would give two texts one id.
TEST(StringPool, IdsAreDenseInInternOrderAndTellLookAlikesApart) {
    std::mt19937_64 rng(7);
    std::vector<std::string> texts;
    for (size_t n = 0; n <= 300; ++n) {
        std::string base(n, 'a');
        for (size_t i = 0; i < n; ++i) base[i] = static_cast<char>(rng() % 4 == 0 ? '\0' : 'a' + rng() % 3);
        texts.push_back(base);
        for (size_t at : {size_t{0}, n / 2, n ? n - 1 : 0}) {
            if (n == 0) break;
            std::string t = base;
            t[at] = static_cast<char>(t[at] ^ 1);
            texts.push_back(t);
            t[at] = static_cast<char>(t[at] ^ 0x80);
            texts.push_back(t);
        }
    }
    std::shuffle(texts.begin(), texts.end(), rng);
    StringPool pool;
    std::map<std::string, uint32_t> expect;
    for (int round = 0; round < 3; ++round) {
        for (const std::string& t : texts) {
            auto [it, added] = expect.emplace(t, static_cast<uint32_t>(expect.size()));
            ASSERT_EQ(pool.find(t), added ? kNoString : it->second) << t.size();
            ASSERT_EQ(pool.intern(t), it->second) << t.size();
            ASSERT_EQ(pool.view(it->second), t);
        }
    }
    EXPECT_EQ(pool.size(), expect.size());
    // A copy gives every text the same id.
    const StringPool copy(pool);
    for (const auto& [t, id] : expect) EXPECT_EQ(copy.find(t), id);
}

// Enough texts that some pairs share the pool's 32-bit hash (about n^2 / 2^33 of them: a dozen here), all
// alike but for a few bytes: only the compare of the text tells such a pair apart. Lengths 5, 12 and 16,
// the bytes that differ at the end (what an overlapping load must cover).
TEST(StringPool, TextsSharingAHashGetIdsOfTheirOwn) {
    std::mt19937_64 rng(11);
    StringPool pool;
    std::unordered_map<std::string, uint32_t> expect;
    for (size_t len : {size_t{5}, size_t{12}, size_t{16}}) {
        for (int i = 0; i < 150000; ++i) {
            std::string t(len, 'k');
            const uint64_t r = rng();
            for (size_t b = 0; b < 4; ++b) t[len - 1 - b] = static_cast<char>(r >> (8 * b));
            auto [it, added] = expect.emplace(t, static_cast<uint32_t>(expect.size()));
            ASSERT_EQ(pool.intern(t), it->second) << len << " " << i;
        }
    }
    for (const auto& [t, id] : expect) ASSERT_EQ(pool.find(t), id);
}

} // namespace
} // namespace ethogram::ir
