// files.cpp: POSIX file helpers with explicit error messages (path + strerror).
#include "govern/files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace ethogram::govern {

namespace {

Error io_error(const std::string& what, const std::string& path) {
    return fail(Code::Io, fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}

bool write_all(int fd, std::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

} // namespace

Expected<std::string> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open", path);
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            Error e = io_error("cannot read", path);
            ::close(fd);
            return e;
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

Status write_file_atomic(const std::string& path, std::string_view bytes, unsigned mode) {
    std::filesystem::path p(path);
    std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
    std::string tmpl = dir + "/." + p.filename().string() + ".tmpXXXXXX";
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) return io_error("cannot create a temporary file", tmpl);
    bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 && write_all(fd, bytes) && ::fsync(fd) == 0;
    Error e = ok ? Error{} : io_error("cannot write", tmpl);
    ::close(fd);
    if (ok && ::rename(tmpl.c_str(), path.c_str()) != 0) {
        ok = false;
        e = io_error("cannot rename the temporary file over it", path);
    }
    if (!ok) {
        ::unlink(tmpl.c_str());
        return e;
    }
    return ok_status();
}

Status write_file_exclusive(const std::string& path, std::string_view bytes, unsigned mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) {
        if (errno == EEXIST) return fail(Code::Immutable, path + ": already exists and is never overwritten");
        return io_error("cannot create", path);
    }
    bool ok = write_all(fd, bytes) && ::fsync(fd) == 0;
    Error e = ok ? Error{} : io_error("cannot write", path);
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        return e;
    }
    return ok_status();
}

} // namespace ethogram::govern
