// signature_test.cpp: verification refuses every kind of unsigned, stripped, tampered or wrongly signed
// bundle.
#include "govern/files.h"
#include "govern/load.h"
#include "govern_fixture.h"

#include <filesystem>

namespace ethogram::govern::testing {
namespace {

using SignatureTest = GovernTest;

std::string fix_checksum(std::string bytes) {
    std::string body = bytes.substr(0, bytes.size() - 32);
    Digest d = blake2b(body);
    return body + std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

Code verify_code(const std::string& p, const TrustStore& t, std::string* msg = nullptr) {
    auto v = verify_bundle_file(p, t);
    if (msg) *msg = v.ok() ? "" : v.error();
    return v.code();
}

TEST_F(SignatureTest, SignedByATrustedAuthorVerifies) {
    std::string p = save_signed(build(), "b.etb", alice);
    auto v = verify_bundle_file(p, trust);
    ASSERT_TRUE(v.ok()) << v.error();
    EXPECT_EQ(v->signers, std::vector<std::string>{"alice"});
    auto loaded = load_verified_bundle(p, trust);
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    EXPECT_EQ(loaded->rules.ruleset->version, "1.0.0");
}

TEST_F(SignatureTest, UnsignedAndSignatureFileRemoved) {
    std::string p = save(build(), "b.etb");
    std::string msg;
    EXPECT_EQ(verify_code(p, trust, &msg), Code::Unsigned);
    EXPECT_NE(msg.find("no signature file"), std::string::npos) << msg;
    p = save_signed(build(), "c.etb", alice);
    std::filesystem::remove(signature_path(p)); // stripped: the signature file removed
    EXPECT_EQ(verify_code(p, trust, &msg), Code::Unsigned);
    EXPECT_NE(msg.find("removed"), std::string::npos) << msg;
}

TEST_F(SignatureTest, StrippedSignatures) {
    std::string p = save_signed(build(), "b.etb", alice);
    ASSERT_TRUE(write_file_atomic(signature_path(p), "\n").ok()); // emptied
    std::string msg;
    EXPECT_EQ(verify_code(p, trust, &msg), Code::Stripped);
    EXPECT_NE(msg.find("holds no signature"), std::string::npos) << msg;
    // When a registry recorded who signed, a removed signature file is "stripped", not "unsigned".
    std::filesystem::remove(signature_path(p));
    VerifyOptions opts;
    opts.recorded_signers = {"alice"};
    auto v = verify_bundle_file(p, trust, opts);
    EXPECT_EQ(v.code(), Code::Stripped) << v.error();
    // ...and so is a signature file that lost one of the recorded signatures.
    Bundle b = *read_bundle(p);
    KeyPair alice2 = make_key("alice2", {Role::Author});
    trust.keys.push_back(trusted(alice2));
    ASSERT_TRUE(add_signature(p, b, alice2).ok());
    v = verify_bundle_file(p, trust, opts);
    EXPECT_EQ(v.code(), Code::Stripped) << v.error();
}

TEST_F(SignatureTest, SignatureOfAnotherBundleIsTampered) {
    std::string a = save_signed(build("1.0.0", 2), "a.etb", alice);
    // The same name and version rebuilt with a changed threshold, re-using a's signature file.
    std::string forged = save(build("1.0.0", 5), "forged.etb");
    std::filesystem::copy_file(signature_path(a), signature_path(forged));
    std::string msg;
    EXPECT_EQ(verify_code(forged, trust, &msg), Code::Tampered);
    EXPECT_NE(msg.find("changed after signing"), std::string::npos) << msg;
}

TEST_F(SignatureTest, EditedSignatureRecordsAreBadSignatures) {
    Bundle b = build("1.0.0", 2);
    Bundle other = build("1.0.0", 5);
    std::string p = save(other, "b.etb");
    // The attacker points a's signature at the forged bundle's manifest hash (hash not recomputed)...
    SignedRecord r = sign_bundle(b, alice);
    r.fields[1].str = other.hash_hex();
    ASSERT_TRUE(write_file_atomic(signature_path(p), encode_record(r) + "\n").ok());
    std::string msg;
    EXPECT_EQ(verify_code(p, trust, &msg), Code::BadSignature);
    // ...or recomputes the record's hash too: the signature still does not verify.
    r.hash = blake2b(record_body(r));
    ASSERT_TRUE(write_file_atomic(signature_path(p), encode_record(r) + "\n").ok());
    EXPECT_EQ(verify_code(p, trust, &msg), Code::BadSignature);
    EXPECT_NE(msg.find("does not verify"), std::string::npos) << msg;
}

TEST_F(SignatureTest, SignatureClaimingAnotherKeyIsBad) {
    Bundle b = build();
    std::string p = save(b, "b.etb");
    SignedRecord r = sign_bundle(b, alice);
    r.key = bob.pk; // claims bob signed it
    r.who = "bob";
    r.hash = blake2b(record_body(r));
    ASSERT_TRUE(write_file_atomic(signature_path(p), encode_record(r) + "\n").ok());
    EXPECT_EQ(verify_code(p, trust), Code::BadSignature);
    // A valid signature whose signer name is not the one the trust file binds to the key.
    KeyPair liar = alice;
    liar.name = "carol";
    ASSERT_TRUE(write_file_atomic(signature_path(p), encode_record(sign_bundle(b, liar)) + "\n").ok());
    std::string msg;
    EXPECT_EQ(verify_code(p, trust, &msg), Code::BadSignature);
    EXPECT_NE(msg.find("belongs to 'alice'"), std::string::npos) << msg;
}

TEST_F(SignatureTest, UntrustedKeyAndWrongRole) {
    std::string msg;
    std::string p = save_signed(build(), "m.etb", mallory);
    EXPECT_EQ(verify_code(p, trust, &msg), Code::UntrustedKey);
    EXPECT_NE(msg.find("not in the trust file"), std::string::npos) << msg;
    p = save_signed(build(), "a.etb", bob); // bob is an approver, not an author
    EXPECT_EQ(verify_code(p, trust, &msg), Code::WrongRole);
    EXPECT_NE(msg.find("author role"), std::string::npos) << msg;
    // A good author signature does not launder a bad one beside it.
    p = save_signed(build(), "c.etb", alice);
    ASSERT_TRUE(add_signature(p, *read_bundle(p), mallory).ok());
    EXPECT_EQ(verify_code(p, trust), Code::UntrustedKey);
}

TEST_F(SignatureTest, AnApprovalCannotBeReplayedAsABundleSignature) {
    Bundle b = build();
    std::string p = save(b, "b.etb");
    SignedRecord r =
        make_record("approval-v1",
                    {Field::s("bundle", b.manifest.id()), Field::s("manifest_hash", b.hash_hex()),
                     Field::s("signed_at", "2026-01-01T00:00:00Z")},
                    alice);
    ASSERT_TRUE(write_file_atomic(signature_path(p), encode_record(r) + "\n").ok());
    EXPECT_EQ(verify_code(p, trust), Code::BadSignature);
}

// What verify_bundle_file does, on in-memory bytes (no file writes: thousands of cases stay fast).
Code verify_bytes(const std::string& bytes, const std::string& sig, const TrustStore& t) {
    auto b = decode_bundle(bytes, "b.etb");
    if (!b) return b.code();
    if (auto s = check_engine_range(b->manifest, "b.etb"); !s) return s.code();
    return verify_signatures(*b, sig, t, "b.etb").code();
}

TEST_F(SignatureTest, EveryByteOfBundleAndSignatureIsCovered) {
    Bundle b = build();
    std::string p = save_signed(b, "b.etb", alice);
    const std::string bytes = *read_file(p);
    const std::string sig = *read_file(signature_path(p));
    ASSERT_EQ(verify_bytes(bytes, sig, trust), Code::Ok);
    for (size_t i = 0; i < bytes.size(); ++i) {
        std::string f = bytes;
        f[i] = static_cast<char>(f[i] ^ 0x20);
        EXPECT_NE(verify_bytes(f, sig, trust), Code::Ok) << "byte " << i;
        if (i + 32 < bytes.size()) { // and with the checksum recomputed by the attacker
            EXPECT_NE(verify_bytes(fix_checksum(f), sig, trust), Code::Ok)
                << "byte " << i << " (checksum fixed)";
        }
    }
    for (size_t i = 0; i + 1 < sig.size(); ++i) { // the final newline is not significant
        std::string f = sig;
        f[i] = static_cast<char>(f[i] == '0' ? '1' : '0');
        EXPECT_NE(verify_bytes(bytes, f, trust), Code::Ok) << "signature byte " << i;
    }
}

TEST_F(SignatureTest, SigningTwiceWithTheSameKeyIsRefused) {
    Bundle b = build();
    std::string p = save_signed(b, "b.etb", alice);
    auto s = add_signature(p, b, alice);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("already signed by 'alice'"), std::string::npos) << s.error();
}

} // namespace
} // namespace ethogram::govern::testing
