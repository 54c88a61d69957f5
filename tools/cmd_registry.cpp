// cmd_registry.cpp: `etho publish`, `etho approve`, `etho release` on a registry folder, and the test step.
#include "govern/deploy.h"
#include "govern/files.h"
#include "govern/load.h"
#include "govern/registry.h"
#include "tools/cmd_govern.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/wait.h>
#include <unistd.h>

namespace ethogram::tools {

namespace {

namespace fs = std::filesystem;

struct Proc {
    bool started = false;
    int code = -1;
    std::string output;
};

// Runs `argv` (no shell: bundle paths are never interpreted) with `cwd`, stdout+stderr captured.
Proc run_process(const std::vector<std::string>& argv, const std::string& cwd) {
    Proc p;
    auto out = govern::TempDir::create("etho-test-out-");
    if (!out) return p;
    std::string log = out->path() + "/output.txt";
    // Everything the child needs is prepared before fork: between fork and exec it only makes system calls.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return p;
    if (pid == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = ::open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(127);
        ::dup2(in, 0);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    p.started = true;
    p.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (auto text = govern::read_file(log)) p.output = *text;
    return p;
}

// The test step of `release`: this very binary's `etho test`, run as a subprocess so that the change-control
// code does not link the test runner (decoupled; any runner honouring the interface can replace it):
//   cwd = the extracted bundle (rules, tests and models at their bundle paths)
//   argv = <etho> test <tests folder>
//   exit 0 = every test passed; anything else = failure, output shown to the user.
govern::TestOutcome subprocess_test_runner(const std::string& root, const govern::Manifest& m,
                                           bool available) {
    govern::TestOutcome t;
    if (!available) {
        t.output =
            "this etho has no `test` command (the rule test runner, `etho test`, is not built in); a bundle "
            "is only released after its tests pass";
        return t;
    }
    std::error_code ec;
    std::string self = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec) {
        t.output = "cannot locate this binary (/proc/self/exe): " + ec.message();
        return t;
    }
    t.available = true;
    t.command = "etho test " + m.tests;
    Proc run = run_process({self, "test", m.tests}, root);
    t.passed = run.started && run.code == 0;
    t.output = run.output;
    if (!run.started) t.output = "the test runner could not be started";
    return t;
}

// BUNDLE may be a bundle file (its name@version is read from it, and the registry's copy must be the same
// bytes' manifest) or NAME@VERSION.
govern::Expected<std::string> resolve_id(const std::string& arg, const govern::Registry& reg) {
    std::error_code ec;
    if (!fs::is_regular_file(arg, ec)) return arg;
    auto b = govern::read_bundle(arg);
    if (!b) return b.err();
    auto there = govern::read_bundle(reg.bundle_path(b->manifest.name, b->manifest.version));
    if (there && there->manifest_hash != b->manifest_hash)
        return govern::fail(
            govern::Code::Immutable,
            fmt::format("{}: {} in {} has different content (manifest hash {} there, {} here)", arg,
                        b->manifest.id(), reg.dir, there->hash_hex().substr(0, 16),
                        b->hash_hex().substr(0, 16)));
    return b->manifest.id();
}

CLI::App* add_registry_cmd(CLI::App& app, RegistryOptions& o, const char* name, const char* help,
                           bool reason_required) {
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->add_option("bundle", o.bundle, "Bundle file, or NAME@VERSION of a published one")->required();
    cmd->add_option("--registry", o.registry, "Registry folder")->required();
    cmd->add_option("--trusted", o.trusted, "Trust file: keys, roles and required_approvals")->required();
    cmd->add_option("--key", o.key, "Secret key file (NAME.key) of the one acting")->required();
    auto* r = cmd->add_option("--reason", o.reason, "Why (recorded in the audit log)");
    if (reason_required) r->required();
    return cmd;
}

struct Context {
    govern::Registry reg;
    govern::TrustStore trust;
    govern::KeyPair key;
};

int load_context(const RegistryOptions& o, Context& c) {
    c.reg.dir = o.registry;
    std::error_code ec;
    fs::create_directories(o.registry, ec);
    if (ec) return govern_fail({govern::Code::Io, o.registry + ": " + ec.message()});
    auto t = govern::load_trust(o.trusted);
    if (!t) return govern_fail(t.err());
    auto k = govern::load_key(o.key);
    if (!k) return govern_fail(k.err());
    c.trust = std::move(*t);
    c.key = std::move(*k);
    return kExitOk;
}

} // namespace

CLI::App* add_publish(CLI::App& app, RegistryOptions& o) {
    return add_registry_cmd(
        app, o, "publish", "Verify a signed bundle and add it to a registry (versions are immutable)", false);
}
CLI::App* add_approve(CLI::App& app, RegistryOptions& o) {
    return add_registry_cmd(app, o, "approve",
                            "Record a signed approval of a published version (approver key)", false);
}
CLI::App* add_release(CLI::App& app, RegistryOptions& o) {
    return add_registry_cmd(
        app, o, "release",
        "Release a published version: its tests must pass and enough approvals be recorded", true);
}

int run_publish(const RegistryOptions& o) {
    Context c;
    if (int rc = load_context(o, c); rc != kExitOk) return rc;
    auto r = govern::publish(c.reg, o.bundle, c.trust, c.key, o.reason);
    if (!r) return govern_fail(r.err());
    if (r->already)
        fmt::print("{} is already published in {} with the same content; nothing to do\n", r->id, o.registry);
    else
        fmt::print("published {} ({}) in {}\n", r->id, r->hash.substr(0, 16), o.registry);
    return kExitOk;
}

int run_approve(const RegistryOptions& o) {
    Context c;
    if (int rc = load_context(o, c); rc != kExitOk) return rc;
    auto id = resolve_id(o.bundle, c.reg);
    if (!id) return govern_fail(id.err());
    auto r = govern::approve(c.reg, *id, c.trust, c.key, o.reason);
    if (!r) return govern_fail(r.err());
    auto vb = govern::open_published(c.reg, *id, c.trust);
    size_t have = vb ? govern::valid_approvals(c.reg, *vb, c.trust).size() : 0;
    fmt::print("approved {} as {} ({} of {} required approvals)\n", *id, c.key.name, have,
               c.trust.required_approvals);
    return kExitOk;
}

int run_release(const RegistryOptions& o, bool test_available) {
    Context c;
    if (int rc = load_context(o, c); rc != kExitOk) return rc;
    auto id = resolve_id(o.bundle, c.reg);
    if (!id) return govern_fail(id.err());
    auto r = govern::release(c.reg, *id, c.trust, c.key, o.reason,
                             [&](const std::string& root, const govern::Manifest& m) {
                                 return subprocess_test_runner(root, m, test_available);
                             });
    if (!r) return govern_fail(r.err());
    fmt::print("released {} (approved by {}; {} passed)\n", *id, r->get("approvals"), r->get("tests"));
    return kExitOk;
}

CLI::App* add_deploy(CLI::App& app, RegistryOptions& o) {
    return add_registry_cmd(app, o, "deploy", "Make a released version the live one (deployer key)", true);
}

CLI::App* add_rollback(CLI::App& app, RegistryOptions& o) {
    CLI::App* cmd = app.add_subcommand("rollback", "Return NAME to the version live before the current one");
    cmd->add_option("name", o.bundle, "Rule-set name")->required();
    cmd->add_option("--registry", o.registry, "Registry folder")->required();
    cmd->add_option("--trusted", o.trusted, "Trust file")->required();
    cmd->add_option("--key", o.key, "Secret key file (NAME.key) of a deployer")->required();
    cmd->add_option("--reason", o.reason, "Why (recorded in the audit log)")->required();
    return cmd;
}

int run_deploy(const RegistryOptions& o) {
    Context c;
    if (int rc = load_context(o, c); rc != kExitOk) return rc;
    auto id = resolve_id(o.bundle, c.reg);
    if (!id) return govern_fail(id.err());
    auto d = govern::deploy(c.reg, *id, c.trust, c.key, o.reason);
    if (!d) return govern_fail(d.err());
    fmt::print("deployed {} (was {})\n", *id, d->previous.empty() ? "none" : d->previous);
    return kExitOk;
}

int run_rollback(const RegistryOptions& o) {
    Context c;
    if (int rc = load_context(o, c); rc != kExitOk) return rc;
    auto d = govern::rollback(c.reg, o.bundle, c.trust, c.key, o.reason);
    if (!d) return govern_fail(d.err());
    fmt::print("rolled {} back from {} to {}\n", o.bundle, d->previous, d->version);
    return kExitOk;
}

} // namespace ethogram::tools
