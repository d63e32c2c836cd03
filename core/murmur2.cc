#include "core/murmur2.h"

namespace sagasim {

uint32_t murmur2(std::string_view bytes) {
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint32_t length = static_cast<uint32_t>(bytes.size());
  uint32_t h = kSeed ^ length;
  const uint32_t blocks = length / 4;
  for (uint32_t i = 0; i < blocks; ++i) {
    // Little-endian words regardless of the host, as Java reads them.
    const unsigned char* p = data + i * 4;
    uint32_t k = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                 static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const unsigned char* tail = data + blocks * 4;
  switch (length % 4) {
    case 3: h ^= static_cast<uint32_t>(tail[2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint32_t>(tail[1]) << 8; [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(tail[0]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

}  // namespace sagasim
