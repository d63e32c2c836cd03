// Kafka's key hash: MurmurHash2 (32-bit, seed 0x9747b28c) exactly as the Java
// client's Utils.murmur2 and librdkafka's rd_murmur2 compute it, and the
// partition a keyed record goes to: (murmur2(key) & 0x7fffffff) % partitions,
// which is also what librdkafka's `partitioner=murmur2_random` does for a
// non-empty key. Checked against both projects' test vectors (tests/core).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/types.h"

namespace sagasim {

uint32_t murmur2(std::string_view bytes);

inline PartitionId partition_for_key(std::string_view key, int32_t partitions) {
  return PartitionId{static_cast<int32_t>((murmur2(key) & 0x7fffffffu) % static_cast<uint32_t>(partitions))};
}

}  // namespace sagasim
