// A trace sink that writes to a file, with a large buffer; errors surface
// at close() as InputError (the path was the user's choice).
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
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  }
  ~TraceFile() override {
    if (f_) std::fclose(f_);
  }
  void write(std::string_view line) override {
    if (std::fwrite(line.data(), 1, line.size(), f_) != line.size()) failed_ = true;
  }
  void close() {
    if (std::fclose(f_) != 0) failed_ = true;
    f_ = nullptr;
    if (failed_) throw InputError(path_, "", "writing the trace failed (disk full or not writable?)");
  }

 private:
  std::string path_;
  std::FILE* f_;
  bool failed_ = false;
};

}  // namespace sagasim::cli
