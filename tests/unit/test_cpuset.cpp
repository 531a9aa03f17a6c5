#include <gtest/gtest.h>

#include "cpuset.h"

using gn::CpuSet;

namespace {

CpuSet first_n(unsigned n) { return n ? CpuSet::range(0, n - 1) : CpuSet{}; }

struct MaskCase {
  unsigned nr_cpu_ids;  // the kernel's mask width
  CpuSet set;
  const char* text;     // as the kernel prints it
};

class MaskTable : public ::testing::TestWithParam<MaskCase> {};

TEST_P(MaskTable, FormatsAsTheKernelPrints) {
  const auto& c = GetParam();
  EXPECT_EQ(gn::format_cpumask(c.set, c.nr_cpu_ids), c.text);
}

TEST_P(MaskTable, ParsesBackToTheSameSet) {
  const auto& c = GetParam();
  auto parsed = gn::parse_cpumask(std::string(c.text) + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().text();
  EXPECT_EQ(*parsed, c.set);
}

INSTANTIATE_TEST_SUITE_P(
    Widths, MaskTable,
    ::testing::Values(
        MaskCase{1, first_n(1), "1"}, MaskCase{2, first_n(2), "3"}, MaskCase{2, CpuSet{}, "0"},
        MaskCase{9, first_n(9), "1ff"}, MaskCase{31, first_n(31), "7fffffff"},
        MaskCase{32, first_n(32), "ffffffff"}, MaskCase{33, first_n(33), "1,ffffffff"},
        MaskCase{33, CpuSet::of({32}), "1,00000000"}, MaskCase{64, first_n(64), "ffffffff,ffffffff"},
        MaskCase{64, CpuSet::of({0, 63}), "80000000,00000001"},
        MaskCase{65, first_n(65), "1,ffffffff,ffffffff"},
        MaskCase{65, CpuSet::of({64}), "1,00000000,00000000"},
        MaskCase{288, first_n(288),
                 "ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff"},
        MaskCase{288, CpuSet::of({287, 0}),
                 "80000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000001"},
        MaskCase{288, CpuSet::range(36, 71),
                 "00000000,00000000,00000000,00000000,00000000,00000000,000000ff,fffffff0,00000000"}));

TEST(CpuMask, RejectsMalformedText) {
  for (const char* bad : {"", "xyz", "1,,2", "123456789", ",1", "1,", "0x1", "-1"})
    EXPECT_FALSE(gn::parse_cpumask(bad).ok()) << "'" << bad << "'";
}

TEST(CpuMask, FormatsLikeTheFileItWillBeWrittenTo) {
  // Exactly as many groups as the file prints (5.15+ refuses more with EOVERFLOW).
  auto one = gn::format_cpumask_like(CpuSet::of({1, 3}), "00");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, "0a");
  auto three = gn::format_cpumask_like(CpuSet::of({0, 40}), "0,00000000,00000000\n");
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(*three, "0,00000100,00000001");
  EXPECT_FALSE(gn::format_cpumask_like(CpuSet::of({40}), "00000000").ok());
  EXPECT_FALSE(gn::format_cpumask_like(CpuSet::of({8}), "ff").ok());
}

TEST(CpuList, ParsesKernelLists) {
  auto s = gn::parse_cpulist("0-3,8-11,16\n");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, CpuSet::range(0, 3) | CpuSet::range(8, 11) | CpuSet::of({16}));
  auto empty = gn::parse_cpulist("\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto null = gn::parse_cpulist("(null)\n");  // nohz_full without nohz_full=
  ASSERT_TRUE(null.ok());
  EXPECT_TRUE(null->empty());
  auto stride = gn::parse_cpulist("0-7:2");
  ASSERT_TRUE(stride.ok());
  EXPECT_EQ(*stride, CpuSet::of({0, 2, 4, 6}));
  for (const char* bad : {"a", "3-1", "1-", "-2", "1,,2", "0-3:0"})
    EXPECT_FALSE(gn::parse_cpulist(bad).ok()) << bad;
}

TEST(CpuList, FormatsRanges) {
  EXPECT_EQ(gn::format_cpulist(CpuSet::range(0, 15) | CpuSet::range(32, 47)), "0-15,32-47");
  EXPECT_EQ(gn::format_cpulist(CpuSet::of({0, 2, 3, 5})), "0,2-3,5");
  EXPECT_EQ(gn::format_cpulist(CpuSet{}), "");
}

TEST(CpuSetOps, SetAlgebra) {
  const CpuSet a = CpuSet::range(0, 40), b = CpuSet::range(30, 70);
  EXPECT_EQ((a & b), CpuSet::range(30, 40));
  EXPECT_EQ((a | b), CpuSet::range(0, 70));
  EXPECT_EQ((a - b), CpuSet::range(0, 29));
  EXPECT_EQ((b - a).count(), 30u);
  EXPECT_EQ(a.end(), 41u);
  CpuSet c = CpuSet::of({64});
  c.remove(64);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c, CpuSet{});
}

}  // namespace
