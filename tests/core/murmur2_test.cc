#include "core/murmur2.h"

#include <gtest/gtest.h>

namespace sagasim {
namespace {

// Apache Kafka, clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java (testMurmur2):
// the Java client's signed results.
TEST(Murmur2, MatchesKafkaJavaClientVectors) {
  EXPECT_EQ(static_cast<int32_t>(murmur2("21")), -973932308);
  EXPECT_EQ(static_cast<int32_t>(murmur2("foobar")), -790332482);
  EXPECT_EQ(static_cast<int32_t>(murmur2("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(static_cast<int32_t>(murmur2("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(static_cast<int32_t>(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")), -58897971);
  EXPECT_EQ(static_cast<int32_t>(murmur2("abc")), 479470107);
}

// librdkafka, src/rdmurmur2.c (unittest_murmur2, "java_murmur2_results"),
// including the unaligned suffixes its C implementation special-cases.
TEST(Murmur2, MatchesLibrdkafkaVectors) {
  EXPECT_EQ(murmur2("kafka"), 0xd067cf64u);
  EXPECT_EQ(murmur2("giberish123456789"), 0x8f552b0cu);
  EXPECT_EQ(murmur2("1234"), 0x9fc97b14u);
  EXPECT_EQ(murmur2("234"), 0xe7c009cau);
  EXPECT_EQ(murmur2("34"), 0x873930dau);
  EXPECT_EQ(murmur2("4"), 0x5a4b5ca1u);
  EXPECT_EQ(murmur2("PreAmbleWillBeRemoved,ThePrePartThatIs"), 0x78424f1cu);
  EXPECT_EQ(murmur2("reAmbleWillBeRemoved,ThePrePartThatIs"), 0x4a62b377u);
  EXPECT_EQ(murmur2("eAmbleWillBeRemoved,ThePrePartThatIs"), 0xe0e4e09eu);
  EXPECT_EQ(murmur2("AmbleWillBeRemoved,ThePrePartThatIs"), 0x62b8b43fu);
  EXPECT_EQ(murmur2(""), 0x106e08d9u);
}

TEST(Murmur2, PartitionIsPositiveHashModuloCount) {
  // Utils.toPositive(murmur2(key)) % numPartitions, as the Java partitioner.
  EXPECT_EQ(to_int(partition_for_key("21", 4)), (-973932308 & 0x7fffffff) % 4);
  EXPECT_EQ(to_int(partition_for_key("foobar", 7)), (-790332482 & 0x7fffffff) % 7);
  for (int n = 1; n <= 16; ++n) {
    const int p = to_int(partition_for_key("o-17", n));
    EXPECT_GE(p, 0);
    EXPECT_LT(p, n);
  }
}

}  // namespace
}  // namespace sagasim
