// Atomic file writes for the file drop: a file appears under its final name complete or not at
// all, and once the call succeeds it survives a crash.
//
// The recipe: write to ".tmp-<unique>" in the same folder (a dot name, so readers that follow
// the file-drop contract ignore it), fsync the file, rename it to the final name, fsync the
// folder so the rename itself is durable. A crash leaves at most a stray ".tmp-*" file.
//
// Thread rules: free functions, safe from any thread; they block on disk I/O, so call them from
// a worker thread, never from the broker's io_context thread.
#pragma once

#include <string>
#include <string_view>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"

namespace sektorbro {

// Whether an existing file with the final name may be replaced.
enum class Replace { kNo, kYes };

// Writes `bytes` into `folder` as `name` (a plain file name, no '/'). With Replace::kNo an
// existing file is never overwritten: the call fails with Errc::kConflict. Other failures are
// Errc::kStorage with the failing step and the errno text; never the bytes.
Result<void> write_file_atomically(const std::string& folder, std::string_view name,
                                   std::string_view bytes, Replace replace);

// Moves `from_folder/name` to `to_folder/to_name` without replacing an existing file
// (Errc::kConflict if one exists). Both folders must be on one file system.
Result<void> move_file_no_replace(const std::string& from_folder, std::string_view name,
                                  const std::string& to_folder, std::string_view to_name);

// "<timestamp>-<nonce>-<counter>", e.g. "20261120T093000123Z-3f9a1c2b-000042": sorts by time
// (and by order of creation within one process), unique across processes by a random nonce
// drawn once per process. No ':' so the names are valid on SMB shares legacy systems mount.
std::string unique_file_stem(TimePoint now);

// The text of an errno value (strerror_r), for error details.
std::string errno_text(int err);

}  // namespace sektorbro
