// files.h: whole-file reads and crash-safe writes (temporary file, fsync, rename) for governance artifacts.
#pragma once

#include "govern/status.h"

#include <string>
#include <string_view>

namespace ethogram::govern {

/// The bytes of `path`, or Code::Io naming the file and the system's reason.
Expected<std::string> read_file(const std::string& path);

/// Writes `bytes` to `path` atomically: a temporary file in the same directory is written and fsync'ed,
/// then renamed over `path` (a reader sees the old or the new file, never half of one). `mode` is the
/// permission of the new file (0600 for secret keys).
Status write_file_atomic(const std::string& path, std::string_view bytes, unsigned mode = 0644);

/// Writes `bytes` to `path` only if it does not exist yet (O_EXCL); Code::Immutable when it does.
Status write_file_exclusive(const std::string& path, std::string_view bytes, unsigned mode = 0644);

} // namespace ethogram::govern
