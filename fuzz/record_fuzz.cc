// libFuzzer target: a Kafka record to a saga event, as `sagasim serve` reads
// one (kafka/runtime/record.h). Raw bytes -> a record (flags, key, value) ->
// kafka::decode_record with every saga payload registered. The only outcomes
// allowed: an event whose key is the record's key, or the reason the record
// is poison, naming the record's topic, partition and offset (it goes to the
// dead-letter topic). An exception, a crash, a sanitizer report or a hang is
// a finding: in production it would stop a service at a poison record.
//
// Input layout: byte 0 bit 0 = the record has a key; byte 1 = the key's
// length (capped by what is left); then the key; the rest is the value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "kafka/runtime/record.h"
#include "sagas/order/events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sagasim::PayloadRegistry registry = [] {
    sagasim::PayloadRegistry r;
    sagasim::saga::register_saga_payloads(r);
    return r;
  }();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  sagasim::kafka::RecordView record;
  record.topic = "payments";
  record.partition = sagasim::PartitionId{2};
  record.offset = sagasim::Offset{17};
  size_t at = 0;
  if (at < bytes.size()) record.has_key = (bytes[at++] & 1) != 0;
  size_t key_size = at < bytes.size() ? static_cast<unsigned char>(bytes[at++]) : 0;
  if (key_size > bytes.size() - at) key_size = bytes.size() - at;
  record.key = bytes.substr(at, key_size);
  record.value = bytes.substr(at + key_size);

  const auto decoded = sagasim::kafka::decode_record(record, registry);
  if (const auto* event = std::get_if<sagasim::EventPtr>(&decoded)) {
    if (!*event || !record.has_key || (*event)->key != record.key) __builtin_trap();
  } else if (std::get<std::string>(decoded).find(record.where()) == std::string::npos) {
    __builtin_trap();  // a DLQ reason must say which record it was
  }
  return 0;
}
