// process.h: child processes for the end-to-end tests that drive `etho` directly (tests/checkpoint,
// tests/deploy): fork + exec with the output in files, extra environment, an optional stdin pipe, and the
// way the child ended (exit code or signal). Header-only.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace ethogram::test_support {

/// How a child is started: where its output goes (appended, or the file truncated first), extra
/// environment entries ("NAME=value") and variables removed from the inherited environment.
struct SpawnOptions {
    std::string out_path{};                  ///< stdout; empty: the test's own
    std::string err_path{};                  ///< stderr; empty: the test's own
    bool append = true;                      ///< false: the files are truncated first
    int stdin_fd = -1;                       ///< dup'ed to stdin; -1: the test's own
    int close_fd = -1;                       ///< closed in the child (the test's end of a pipe)
    std::vector<std::string> env{}, unset{}; ///< "NAME=value" added; names removed
};

/// Starts `argv` (argv[0] a path, no shell); exit code 127 when it cannot be executed.
inline pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& o = {}) {
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    const int flags = O_WRONLY | O_CREAT | (o.append ? O_APPEND : O_TRUNC);
    int out = o.out_path.empty() ? -1 : ::open(o.out_path.c_str(), flags, 0644);
    int err = o.err_path.empty()         ? -1
              : o.err_path == o.out_path ? out
                                         : ::open(o.err_path.c_str(), flags, 0644);
    if (o.stdin_fd >= 0) ::dup2(o.stdin_fd, 0);
    if (o.stdin_fd > 0) ::close(o.stdin_fd);
    if (o.close_fd >= 0) ::close(o.close_fd);
    if (out >= 0) ::dup2(out, 1);
    if (err >= 0) ::dup2(err, 2);
    for (const std::string& name : o.unset) ::unsetenv(name.c_str());
    for (const std::string& kv : o.env) ::putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
}

/// Waits for a child: its exit code, or -signal when a signal ended it.
inline int wait_child(pid_t pid) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return -WTERMSIG(st);
    return -1000;
}

/// A child reading its stdin from a pipe the test writes to (a live input), waited for on destruction.
class PipedChild {
public:
    /// Starts `argv` with stdin from a new pipe; `o.stdin_fd` and `o.close_fd` are set here.
    PipedChild(const std::vector<std::string>& argv, SpawnOptions o) {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); // no other child inherits the test's end
        o.stdin_fd = fds[0];
        o.close_fd = fds[1];
        pid_ = spawn(argv, o);
        ::close(fds[0]);
        in_ = fds[1];
    }
    ~PipedChild() {
        if (pid_ > 0) finish();
    }
    PipedChild(const PipedChild&) = delete;
    PipedChild& operator=(const PipedChild&) = delete;

    /// Writes `text` to the child's stdin (all of it).
    void send(const std::string& text) {
        ASSERT_EQ(::write(in_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    }
    void signal(int sig) const { ::kill(pid_, sig); }
    /// Closes the child's stdin (end of input) and waits: exit code, or -signal.
    int finish() {
        if (in_ >= 0) ::close(in_);
        in_ = -1;
        const int rc = wait_child(pid_);
        pid_ = -1;
        return rc;
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int in_ = -1;
};

} // namespace ethogram::test_support
