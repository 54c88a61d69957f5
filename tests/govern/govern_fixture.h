// govern_fixture.h: a temporary folder with a small rule set, tests, in-memory keys and a trust store.
#pragma once

#include "govern/build.h"
#include "govern/keys.h"
#include "govern/verify.h"

#include <gtest/gtest.h>

#include <string>

namespace ethogram::govern::testing {

/// A key pair made in memory (no files), with roles.
KeyPair make_key(const std::string& name, std::vector<Role> roles);
/// The trust entry of a key.
TrustedKey trusted(const KeyPair& k);

class GovernTest : public ::testing::Test {
protected:
    std::string dir;
    KeyPair alice, bob, carol, dave, mallory; // author, approver, approver, deployer, untrusted author
    TrustStore trust;

    void SetUp() override;
    void TearDown() override;
    std::string path(const std::string& name) const { return dir + "/" + name; }
    std::string write(const std::string& name, const std::string& text) const;
    /// Builds the sample rule set (version `version`, threshold `n`) with its tests; created_at fixed.
    Bundle build(const std::string& version = "1.0.0", int n = 2, int64_t created_at = 1700000000);
    /// Writes the bundle to `name` and returns its path.
    std::string save(const Bundle& b, const std::string& name) const;
    /// save + sign with `k`.
    std::string save_signed(const Bundle& b, const std::string& name, const KeyPair& k) const;
};

} // namespace ethogram::govern::testing
