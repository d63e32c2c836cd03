// A trace sink that writes to a file, with a large buffer of its own (lines
// are gathered and written a few hundred KiB at a time, not one stdio call
// per step); errors surface at close() as InputError (the path was the
// user's choice).
#pragma once

#include <cstdio>
#include <string>

#include "core/error.h"
#include "sim/trace.h"

namespace sagasim::cli {

class TraceFile final : public sim::TraceSink {
 public:
  explicit TraceFile(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {
    if (!f_) throw InputError(path, "", "cannot open the trace file for writing");
    std::setvbuf(f_, nullptr, _IONBF, 0);  // buffered here instead
    pending_.reserve(kFlushAt + 64 * 1024);
  }
  ~TraceFile() override {
    if (f_) {
      flush();
      std::fclose(f_);
    }
  }
  void write(std::string_view line) override {
    pending_.append(line);
    if (pending_.size() >= kFlushAt) flush();
  }
  void close() {
    flush();
    if (std::fclose(f_) != 0) failed_ = true;
    f_ = nullptr;
    if (failed_) throw InputError(path_, "", "writing the trace failed (disk full or not writable?)");
  }

 private:
  static constexpr size_t kFlushAt = 512 * 1024;
  void flush() {
    if (!pending_.empty() && std::fwrite(pending_.data(), 1, pending_.size(), f_) != pending_.size()) failed_ = true;
    pending_.clear();
  }

  std::string path_;
  std::FILE* f_;
  bool failed_ = false;
  std::string pending_;
};

}  // namespace sagasim::cli
