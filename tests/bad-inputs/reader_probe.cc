// The readers of outside input that no sagasim command reaches yet, behind
// the same front end as the CLI so that tests/bad-inputs/ can hold them to the
// same rule: bad input ends in exit code 2 and one message naming the file
// and the JSON path or line, never a crash.
//
//   reader_probe event FILE        one event envelope (core/codec.h), with
//                                  every saga payload registered: the path a
//                                  Kafka record's value takes in production mode
//   reader_probe properties FILE   a librdkafka properties file (kafka/client/config.h)
//
// Exit codes: 0 read, 2 bad input, 64 usage.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "core/codec.h"
#include "core/error.h"
#include "kafka/client/config.h"
#include "sagas/order/events.h"

namespace {

int read_event(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw sagasim::InputError(path, "", "not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw sagasim::InputError(path, "", "cannot open the file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  sagasim::PayloadRegistry registry;
  sagasim::saga::register_saga_payloads(registry);
  const sagasim::Event e = sagasim::decode_event(text, &registry, path);
  std::cout << "event " << e.event_id << " (" << e.type << " v" << e.schema_version << ")\n";
  return 0;
}

int read_properties(const std::string& path) {
  auto config = sagasim::kafka::Config::load(path);
  if (!config.ok()) {
    std::cerr << "reader_probe: " << config.error().to_string() << "\n";
    return 2;
  }
  std::cout << config.value().entries().size() << " settings: " << config.value().redacted() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: reader_probe event|properties FILE\n";
    return 64;
  }
  const std::string what = argv[1], path = argv[2];
  try {
    if (what == "event") return read_event(path);
    if (what == "properties") return read_properties(path);
  } catch (const sagasim::InputError& e) {
    std::cerr << "reader_probe: " << e.what() << "\n";
    return 2;
  }
  std::cerr << "usage: reader_probe event|properties FILE\n";
  return 64;
}
