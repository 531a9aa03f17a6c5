#include <gtest/gtest.h>

#include <random>
#include <string>

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

TEST(CpuSetOps, InPlaceAsTheOperatorsOverSetsOfDifferentWidths) {
  const CpuSet sets[] = {CpuSet{}, CpuSet::of({0}), CpuSet::range(0, 40), CpuSet::range(30, 70),
                         CpuSet::of({31, 32, 95}), CpuSet::range(64, 127), CpuSet::range(0, 1023)};
  for (const auto& a : sets)
    for (const auto& b : sets) {
      CpuSet x = a;
      EXPECT_EQ(x |= b, a | b);
      x = a;
      EXPECT_EQ(x &= b, a & b);
      x = a;
      EXPECT_EQ(x -= b, a - b);
      EXPECT_EQ(a.intersects(b), !(a & b).empty());
      EXPECT_EQ(a.subset_of(b), (a - b).empty());
    }
}

TEST(CpuSetOps, CountsEveryBitOfEveryWord) {
  EXPECT_EQ(CpuSet{}.count(), 0u);
  EXPECT_EQ(CpuSet::of({31}).count(), 1u);
  EXPECT_EQ(CpuSet::range(0, 31).count(), 32u);
  EXPECT_EQ(CpuSet::of({0, 31, 32, 63, 1023}).count(), 5u);
  EXPECT_EQ(CpuSet::range(0, 1023).count(), 1024u);
  EXPECT_EQ(CpuSet::from_words({0x55555555u, 0xaaaaaaaau, 0x80000001u}).count(), 34u);
}

// cpumask_is(text, set) is "text parses as a mask and the mask is set", without building one.
struct IsCase {
  const char* text;
  CpuSet set;
  bool is;
};

void PrintTo(const IsCase& c, std::ostream* os) {
  *os << "'" << c.text << "' against {" << gn::format_cpulist(c.set) << "}: " << (c.is ? "is" : "is not");
}

class MaskIs : public ::testing::TestWithParam<IsCase> {};

TEST_P(MaskIs, AnswersAsParsingAndComparing) {
  const auto& c = GetParam();
  EXPECT_EQ(gn::cpumask_is(c.text, c.set), c.is) << "'" << c.text << "' against " << gn::format_cpulist(c.set);
  auto parsed = gn::parse_cpumask(c.text);
  EXPECT_EQ(parsed.ok() && *parsed == c.set, c.is) << "'" << c.text << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Texts, MaskIs,
    ::testing::Values(
        // Well formed: one group, several, first groups of every width, either case, a newline.
        IsCase{"f", CpuSet::range(0, 3), true}, IsCase{"0", CpuSet{}, true},
        IsCase{"e", CpuSet::range(0, 3), false}, IsCase{"F\n", CpuSet::range(0, 3), true},
        IsCase{"00000000,0000000f", CpuSet::range(0, 3), true}, IsCase{"0,0000000f", CpuSet::range(0, 3), true},
        IsCase{"1,ffffffff", CpuSet::range(0, 32), true}, IsCase{"01,ffffffff", CpuSet::range(0, 32), true},
        IsCase{"00000001,ffffffff", CpuSet::range(0, 32), true},
        IsCase{"1,fffffffe", CpuSet::range(0, 32), false},
        IsCase{"80000000,00000000,00000001", CpuSet::of({0, 95}), true},
        IsCase{"80000000,00000000,00000001", CpuSet::of({0}), false},
        // Leading zero groups are no CPUs.
        IsCase{"00000000,00000000,00000001", CpuSet::of({0}), true},
        IsCase{"0,00000000,00000000", CpuSet{}, true},
        IsCase{"00000000,00000001,00000000", CpuSet::of({32}), true},
        IsCase{"00000000,00000001,00000000", CpuSet::of({0}), false},
        // A set with CPUs beyond the text's groups is not what the text says.
        IsCase{"00000001", CpuSet::of({0, 40}), false}, IsCase{"0", CpuSet::of({32}), false},
        IsCase{"ffffffff", CpuSet::range(0, 32), false},
        IsCase{"ffffffff,ffffffff", CpuSet::range(0, 1023), false},
        // Malformed text holds no set, not even the empty one or the one its digits spell.
        IsCase{"", CpuSet{}, false}, IsCase{"\n", CpuSet{}, false}, IsCase{"xyz", CpuSet{}, false},
        IsCase{"1,,2", CpuSet::of({1, 65}), false}, IsCase{",1", CpuSet::of({0}), false},
        IsCase{"1,", CpuSet::of({32}), false}, IsCase{"0x1", CpuSet::of({0}), false},
        IsCase{"-1", CpuSet::of({0}), false}, IsCase{"123456789", CpuSet::from_words({0x23456789u, 1u}), false},
        IsCase{"000000001", CpuSet::of({0}), false}, IsCase{"1,000000000", CpuSet::of({32}), false},
        IsCase{"1 ,00000000", CpuSet::of({32}), false}, IsCase{"g,00000000", CpuSet{}, false},
        IsCase{"00000000,0000000g", CpuSet{}, false}, IsCase{"+f", CpuSet::range(0, 3), false},
        IsCase{"0,000000000", CpuSet{}, false}, IsCase{"000000000,00000000", CpuSet{}, false},
        IsCase{"100000000", CpuSet::of({32}), false}, IsCase{"00000000,00000000", CpuSet{}, true},
        // The low zero groups of a wide mask, compared at once, and the forms that are not that.
        IsCase{"00000001,00000000,00000000,00000000", CpuSet::of({96}), true},
        IsCase{"00000002,00000000,00000000,00000000", CpuSet::of({96}), false},
        IsCase{"1,0,0,0", CpuSet::of({96}), true}, IsCase{"1,00000000,0,00000000", CpuSet::of({96}), true},
        IsCase{"1,00000000,00000000", CpuSet::of({64}), true}, IsCase{",00000000,00000000", CpuSet{}, false},
        IsCase{"00000000,00000000", CpuSet::of({64}), false}, IsCase{"1,000000000,00000000", CpuSet::of({64}), false},
        IsCase{"00000001,00000002", CpuSet::of({32}), false},
        // Low groups of the text zero while the set's are not: the skip must stop at the set's too.
        IsCase{"00000001,00000000", CpuSet::of({0, 32}), false},
        IsCase{"00000000,00000000", CpuSet::of({5}), false},
        IsCase{"00000001,00000000,00000000", CpuSet::of({3, 64}), false}));

// The same answers as parsing and comparing over many texts, well formed or not, and sets near them
// (wide kernel-form texts too, whose low zero groups cpumask_is compares at once).
TEST(MaskIs, AgreesWithParsingOnRandomText) {
  std::mt19937 rng(13);
  const std::string alphabet = "0123456789abcdefABCDEF,,,,x ";
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    if (round % 3 == 2) {
      // The kernel's wide form: up to 40 groups, most "00000000", some of another width or
      // digit, a comma doubled or missing now and then.
      const int groups = 1 + static_cast<int>(rng() % 40);
      for (int g = 0; g < groups; ++g) {
        if (g) text += rng() % 50 == 0 ? ",," : rng() % 50 == 0 ? "" : ",";
        const int width = rng() % 8 == 0 ? 1 + static_cast<int>(rng() % 9) : 8;
        for (int d = 0; d < width; ++d) text += rng() % 12 == 0 ? "0123456789abcdef"[rng() % 16] : '0';
      }
    } else if (round % 2 == 0) {
      // Mostly well formed: groups of 1-9 digits.
      const int groups = 1 + static_cast<int>(rng() % 5);
      for (int g = 0; g < groups; ++g) {
        if (g) text += ',';
        const int width = 1 + static_cast<int>(rng() % (g == 0 ? 9 : 10));
        for (int d = 0; d < width; ++d) text += "0123456789abcdef"[rng() % (rng() % 3 == 0 ? 16 : 2)];
      }
    } else {
      const int len = static_cast<int>(rng() % 30);
      for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    }
    auto parsed = gn::parse_cpumask(text);
    std::vector<CpuSet> sets = {CpuSet{}, CpuSet::of({static_cast<unsigned>(rng() % 200)}),
                                CpuSet::of({static_cast<unsigned>(rng() % 1300)})};
    if (parsed.ok()) {
      sets.push_back(*parsed);
      CpuSet flipped = *parsed;
      const unsigned cpu = static_cast<unsigned>(rng() % (parsed->end() + 40));
      if (flipped.has(cpu)) flipped.remove(cpu);
      else flipped.add(cpu);
      sets.push_back(flipped);
    }
    for (const auto& set : sets)
      ASSERT_EQ(gn::cpumask_is(text, set), parsed.ok() && *parsed == set)
          << "'" << text << "' against " << gn::format_cpulist(set);
  }
}

TEST(CpuMask, ParseNamesTheFirstMalformedGroup) {
  // Groups are checked left to right, each for its width before its digits.
  EXPECT_NE(gn::parse_cpumask("zz,123456789").error().text().find("not hexadecimal"), std::string::npos);
  EXPECT_NE(gn::parse_cpumask("z23456789,zz").error().text().find("groups are 1-8 hex digits"), std::string::npos);
  EXPECT_NE(gn::parse_cpumask("1,,z").error().text().find("groups are 1-8 hex digits"), std::string::npos);
}

}  // namespace
