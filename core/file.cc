#include "core/file.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.h"

namespace sagasim {

std::string read_file_bounded(const std::string& path, std::string_view noun, size_t max_bytes,
                              std::string_view too_large_hint) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "", fmt::format("is a directory, not a {}", noun));
  if (std::filesystem::is_character_file(path, ec) || std::filesystem::is_block_file(path, ec))
    throw InputError(path, "", fmt::format("is a device, not a {}", noun));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", fmt::format("cannot open the {}", noun));
  std::string text;
  char chunk[1 << 16];
  while (text.size() <= max_bytes && in.read(chunk, sizeof chunk).gcount() > 0)
    text.append(chunk, static_cast<size_t>(in.gcount()));
  if (in.bad()) throw InputError(path, "", fmt::format("reading the {} failed", noun));
  if (text.size() > max_bytes)
    throw InputError(path, "", fmt::format("larger than the limit of {} MiB for a {}{}", max_bytes >> 20, noun,
                                           too_large_hint));
  return text;
}

}  // namespace sagasim
