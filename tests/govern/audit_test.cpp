// audit_test.cpp: the audit chain detects edited, removed, reordered, inserted, appended and truncated
// entries.
#include "govern/audit.h"
#include "govern/files.h"
#include "govern_fixture.h"

#include <filesystem>

namespace ethogram::govern::testing {
namespace {

class AuditTest : public GovernTest {
protected:
    std::string log;
    std::vector<std::string> lines;
    void SetUp() override {
        GovernTest::SetUp();
        log = path("audit.jsonl");
        const std::string h(64, 'a');
        append("build", alice, "");
        append("sign", alice, "");
        append("approve", bob, "reviewed");
        append("approve", carol, "reviewed too");
        append("release", dave, "fixes false positives on mobile");
        lines = read_lines();
    }
    void append(const std::string& action, const KeyPair& k, const std::string& reason) {
        auto r = audit_append(log, AuditEvent{action, "shop.web@1.4.0", std::string(64, 'a'), reason}, k);
        ASSERT_TRUE(r.ok()) << r.error();
    }
    std::vector<std::string> read_lines() {
        std::vector<std::string> out;
        std::string t = *read_file(log);
        size_t i = 0;
        while (i < t.size()) {
            size_t j = t.find('\n', i);
            out.push_back(t.substr(i, j - i));
            i = j + 1;
        }
        return out;
    }
    void write_lines(const std::vector<std::string>& ls) {
        std::string t;
        for (const auto& l : ls) t += l + "\n";
        ASSERT_TRUE(write_file_atomic(log, t).ok());
    }
    // The error of verifying the log; fails the test when it verifies.
    std::string broken() {
        auto r = audit_verify(log, trust);
        EXPECT_FALSE(r.ok());
        EXPECT_EQ(r.code(), Code::AuditBroken);
        return r.ok() ? "" : r.error();
    }
    static bool has(const std::string& s, const std::string& part) {
        return s.find(part) != std::string::npos;
    }
};

TEST_F(AuditTest, IntactLogVerifies) {
    auto r = audit_verify(log, trust);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->entries, 5u);
    EXPECT_TRUE(r->head_present);
    auto first = parse_record(lines[0], "l", "actor");
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->num("seq"), 1u);
    EXPECT_EQ(first->get("prev"), std::string(64, '0'));
    EXPECT_EQ(first->who, "alice");
    auto second = parse_record(lines[1], "l", "actor");
    EXPECT_EQ(second->get("prev"), to_hex(first->hash));
}

TEST_F(AuditTest, EditedEntryIsNamed) {
    std::string edited = lines[2];
    edited.replace(edited.find("reviewed"), 8, "rubber-s");
    auto ls = lines;
    ls[2] = edited;
    write_lines(ls);
    std::string e = broken();
    EXPECT_TRUE(has(e, "audit.jsonl:3 (seq 3)")) << e;
    EXPECT_TRUE(has(e, "was edited")) << e;
}

TEST_F(AuditTest, EditedAndReSignedEntryBreaksTheChainAtTheNextOne) {
    // An insider with a trusted key rewrites entry 3 completely (new hash, valid signature of bob).
    auto r = parse_record(lines[2], "l", "actor");
    ASSERT_TRUE(r.ok());
    std::vector<Field> f = r->fields;
    for (auto& x : f)
        if (x.key == "reason") x.str = "never mind";
    auto ls = lines;
    ls[2] = encode_record(make_record(kAuditEntryPurpose, f, bob, "actor"));
    write_lines(ls);
    std::string e = broken();
    EXPECT_TRUE(has(e, "audit.jsonl:4 (seq 4)")) << e;
    EXPECT_TRUE(has(e, "prev hash")) << e;
}

TEST_F(AuditTest, EditedHashWithoutTheKeyIsABadSignature) {
    auto r = parse_record(lines[1], "l", "actor");
    ASSERT_TRUE(r.ok());
    for (auto& x : r->fields)
        if (x.key == "time") x.str = "2020-01-01T00:00:00Z";
    r->hash = blake2b(record_body(*r)); // rehashed, but cannot re-sign without alice's key
    auto ls = lines;
    ls[1] = encode_record(*r);
    write_lines(ls);
    std::string e = broken();
    EXPECT_TRUE(has(e, "audit.jsonl:2 (seq 2)")) << e;
    EXPECT_TRUE(has(e, "does not verify")) << e;
}

TEST_F(AuditTest, RemovedEntry) {
    auto ls = lines;
    ls.erase(ls.begin() + 1);
    write_lines(ls);
    std::string e = broken();
    EXPECT_TRUE(has(e, "audit.jsonl:2 (seq 3)")) << e;
    EXPECT_TRUE(has(e, "seq 3 where 2 was expected")) << e;
}

TEST_F(AuditTest, ReorderedEntries) {
    auto ls = lines;
    std::swap(ls[2], ls[3]);
    write_lines(ls);
    std::string e = broken();
    EXPECT_TRUE(has(e, "audit.jsonl:3 (seq 4)")) << e;
}

TEST_F(AuditTest, InsertedEntry) {
    auto ls = lines;
    ls.insert(ls.begin() + 2, lines[1]);
    write_lines(ls);
    std::string e = broken();
    EXPECT_TRUE(has(e, "audit.jsonl:3 (seq 2)")) << e;
}

TEST_F(AuditTest, TruncatedTailIsCaughtByTheSignedHead) {
    auto ls = lines;
    ls.resize(3);
    write_lines(ls);
    std::string e = broken();
    EXPECT_TRUE(has(e, "truncated")) << e;
    EXPECT_TRUE(has(e, "entries 4..5 were removed")) << e;
    // Removing the head as well does not hide it.
    std::filesystem::remove(audit_head_path(log));
    e = broken();
    EXPECT_TRUE(has(e, "head file")) << e;
}

TEST_F(AuditTest, AppendedForgedEntries) {
    // A well-chained entry signed by a key outside the trust file.
    auto ls = lines;
    auto last = parse_record(lines.back(), "l", "actor");
    ASSERT_TRUE(last.ok());
    std::vector<Field> f = {Field::n("seq", 6),
                            Field::s("time", "2026-01-01T00:00:00Z"),
                            Field::s("action", "deploy"),
                            Field::s("subject", "shop.web@1.4.0"),
                            Field::s("subject_hash", std::string(64, 'b')),
                            Field::s("reason", "trust me"),
                            Field::s("prev", to_hex(last->hash))};
    ls.push_back(encode_record(make_record(kAuditEntryPurpose, f, mallory, "actor")));
    write_lines(ls);
    std::string e = broken();
    EXPECT_TRUE(has(e, "audit.jsonl:6 (seq 6)")) << e;
    EXPECT_TRUE(has(e, "not in the trust file")) << e;
    // The same by a trusted deployer who bypasses audit_append (the signed head is not advanced).
    ls.back() = encode_record(make_record(kAuditEntryPurpose, f, dave, "actor"));
    write_lines(ls);
    e = broken();
    EXPECT_TRUE(has(e, "audit.jsonl:6 (seq 6)")) << e;
    EXPECT_TRUE(has(e, "after the signed head")) << e;
    // By a trusted key without the role the action needs.
    ls.back() = encode_record(make_record(kAuditEntryPurpose, f, bob, "actor"));
    write_lines(ls);
    e = broken();
    EXPECT_TRUE(has(e, "lacks the deployer role")) << e;
}

TEST_F(AuditTest, AppendRules) {
    auto r = audit_append(log, AuditEvent{"release", "x@1.0.0", std::string(64, 'a'), ""}, dave);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(has(r.error(), "needs a reason")) << r.error();
    EXPECT_EQ(audit_append(log, AuditEvent{"delete", "x@1.0.0", "", ""}, dave).code(), Code::Usage);
    // Nothing is appended to a damaged tail.
    std::string t = *read_file(log);
    ASSERT_TRUE(write_file_atomic(log, t.substr(0, t.size() - 10)).ok());
    r = audit_append(log, AuditEvent{"build", "x@1.0.0", "", ""}, alice);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Code::AuditBroken);
}

TEST_F(AuditTest, EmptyLogVerifies) {
    std::string empty = path("empty.jsonl");
    ASSERT_TRUE(write_file_atomic(empty, "").ok());
    auto r = audit_verify(empty, trust);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->entries, 0u);
}

} // namespace
} // namespace ethogram::govern::testing
