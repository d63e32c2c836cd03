// Reading a whole input file (a scenario, a schema, an events file) with a
// size limit, and errors that name the file and what was expected of it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sagasim {

// The contents of `path`, read in chunks up to one byte past `max_bytes`
// (a pipe such as `<(...)` has no size to ask for). InputError naming `path`:
// "is a directory, not a <noun>", "is a device, not a <noun>", "cannot open
// the <noun>", "reading the <noun> failed", "larger than the limit of N MiB
// for a <noun><too_large_hint>".
std::string read_file_bounded(const std::string& path, std::string_view noun, size_t max_bytes,
                              std::string_view too_large_hint = {});

}  // namespace sagasim
