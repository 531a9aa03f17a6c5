// Parsers tested on text as real kernels print it (3.10/RHEL 7, 4.18/RHEL 8, 5.x, 6.x).
#include <gtest/gtest.h>

#include "interrupts.h"
#include "kernel_release.h"
#include "softnet.h"
#include "sysroot.h"
#include "tempdir.h"

namespace {

// RHEL 7 (3.10): chip and trigger in one column.
const char* kInterrupts310 =
    "           CPU0       CPU1       CPU2       CPU3       \n"
    "  0:         36          0          0          0   IO-APIC-edge      timer\n"
    " 11:          0          0          0          0   IO-APIC-fasteoi   uhci_hcd:usb1, virtio3\n"
    " 24:          0          0          0          0   PCI-MSI-edge      virtio0-config\n"
    " 25:       1234          0          0          0   PCI-MSI-edge      virtio0-input.0\n"
    " 26:          1          0          0          0   PCI-MSI-edge      virtio0-output.0\n"
    " 27:          9          8          0          0   PCI-MSI-edge      virtio1-virtqueues\n"
    "NMI:          0          0          0          0   Non-maskable interrupts\n"
    "ERR:          0\n"
    "MIS:          0\n";

// 4.18 (RHEL 8): hardware IRQ number beside the chip.
const char* kInterrupts418 =
    "            CPU0       CPU1       CPU2       CPU3       CPU4       CPU5       CPU6       CPU7       CPU8       \n"
    " 27:          0          0          0          0          0          0          0          0          0   PCI-MSI 49152-edge      virtio0-config\n"
    " 28:       3390          0          0          0          0          0          0          0          0   PCI-MSI 49153-edge      virtio0-input.0\n"
    " 29:          0         12          0          0          0          0          0          0          0   PCI-MSI 49154-edge      virtio0-output.0\n"
    " 34:          0          0          0          0          0          0          0          0         77   PCI-MSI 49159-edge      virtio0-input.3\n"
    "LOC:      12345      23456      34567      45678      56789      67890      78901      89012      90123   Local timer interrupts\n";

// 6.x as on this kind of machine: PCI-MSIX with the device address.
const char* kInterrupts6 =
    "           CPU0       CPU1       \n"
    " 37:          0          0 PCI-MSIX-0000:00:03.0   0-edge      virtio2-config\n"
    " 38:          0        366 PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0\n"
    " 39:        296          0 PCI-MSIX-0000:00:03.0   2-edge      virtio2-output.0\n"
    " 42:          0       2601 PCI-MSIX-0000:00:04.0   2-edge      virtio3-tx\n"
    "NMI:          0          0   Non-maskable interrupts\n";

TEST(Interrupts, RhelSevenLayout) {
  auto lines = gn::parse_interrupts(kInterrupts310);
  ASSERT_TRUE(lines.ok()) << lines.error().text();
  ASSERT_EQ(lines->size(), 6u);
  EXPECT_EQ((*lines)[3].irq, 25u);
  ASSERT_EQ((*lines)[3].names.size(), 2u);  // "PCI-MSI-edge" and the action
  EXPECT_EQ((*lines)[3].names.back(), "virtio0-input.0");
  // A shared legacy line lists two actions.
  const auto& shared = (*lines)[1].names;
  EXPECT_NE(std::find(shared.begin(), shared.end(), "virtio3"), shared.end());
  EXPECT_NE(std::find(shared.begin(), shared.end(), "uhci_hcd:usb1"), shared.end());
}

TEST(Interrupts, EightEighteenAndSixLayouts) {
  auto l418 = gn::parse_interrupts(kInterrupts418);
  ASSERT_TRUE(l418.ok());
  ASSERT_EQ(l418->size(), 4u);
  EXPECT_EQ(l418->back().irq, 34u);
  EXPECT_EQ(l418->back().names.back(), "virtio0-input.3");
  auto l6 = gn::parse_interrupts(kInterrupts6);
  ASSERT_TRUE(l6.ok());
  ASSERT_EQ(l6->size(), 4u);
  EXPECT_EQ((*l6)[2].names.back(), "virtio2-output.0");
}

TEST(Interrupts, RejectsMalformed) {
  EXPECT_FALSE(gn::parse_interrupts("").ok());
  EXPECT_FALSE(gn::parse_interrupts("not a header\n 1: 0 x\n").ok());
  EXPECT_FALSE(gn::parse_interrupts("  CPU0\n 25 0 virtio0-input.0\n").ok());
}

TEST(Interrupts, VirtioNames) {
  using K = gn::VirtioIrqKind;
  struct Case {
    const char* name;
    const char* device;
    K kind;
    int queue;
  } cases[] = {{"virtio0-input.0", "virtio0", K::Input, 0},
               {"virtio12-output.31", "virtio12", K::Output, 31},
               {"virtio1-virtqueues", "virtio1", K::Shared, -1},
               {"virtio3", "virtio3", K::Legacy, -1},
               {"virtio2-config", "virtio2", K::Config, -1},
               {"virtio1-req.0", "virtio1", K::Other, -1}};
  for (const auto& c : cases) {
    auto v = gn::parse_virtio_irq_name(c.name);
    ASSERT_TRUE(v.has_value()) << c.name;
    EXPECT_EQ(v->device, c.device) << c.name;
    EXPECT_EQ(v->kind, c.kind) << c.name;
    EXPECT_EQ(v->queue, c.queue) << c.name;
  }
  for (const char* no : {"timer", "virtio", "virtioX-input.0", "virtio0_input.0", "PCI-MSI-edge"})
    EXPECT_FALSE(gn::parse_virtio_irq_name(no).has_value()) << no;
  EXPECT_EQ(gn::parse_virtio_irq_name("virtio0-input.x")->kind, K::Other);
  // A queue number too big for an int is not queue 0 (from_chars leaves its output alone).
  const auto big = gn::parse_virtio_irq_name("virtio0-input.99999999999");
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->kind, K::Other);
  EXPECT_EQ(big->queue, -1);
  // Past virtio-net's last queue (kMaxQueue): not a queue of a NIC the agent tunes.
  const auto last = gn::parse_virtio_irq_name("virtio0-input.32767");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->kind, K::Input);
  EXPECT_EQ(last->queue, 32767);
  const auto past = gn::parse_virtio_irq_name("virtio0-output.32768");
  ASSERT_TRUE(past.has_value());
  EXPECT_EQ(past->kind, K::Other);
  EXPECT_EQ(past->queue, -1);
}

TEST(Interrupts, IrqNumberOutOfRangeIsAnError) {
  // The overflowing number used to come back as IRQ 0 (from_chars leaves its output alone).
  auto l = gn::parse_interrupts("  CPU0\n99999999999:  5  PCI-MSI  virtio0-input.0\n");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("out of range"), std::string::npos) << l.error().message;
}

TEST(Interrupts, ReadLineByLineAsFromTheWholeText) {
  // Lines longer than one read() (a 1024-CPU guest's are about 11 KB; these about 100 KB), the
  // last one without its newline: the line reader hands over the same lines as the text parser.
  std::string text = "   " ;
  for (int c = 0; c < 9000; ++c) text += " CPU" + std::to_string(c);
  text += "\n";
  for (int irq = 24; irq < 30; ++irq) {
    text += std::to_string(irq) + ":";
    for (int c = 0; c < 9000; ++c) text += "          " + std::to_string(c % 7);
    text += " PCI-MSI 0-edge virtio0-input." + std::to_string(irq - 24);
    if (irq < 29) text += "\n";
  }
  gn::test::TempDir d;
  gn::test::write_text(d / "proc/interrupts", text);
  const gn::SysRoot root(d.path());
  gn::InterruptsLines parser;
  std::vector<gn::IrqLine> got;
  auto r = root.read_lines("proc/interrupts", [&](std::string_view line) -> gn::Result<void> {
    auto l = parser.next(line);
    if (!l) return l.error();
    if (*l) got.push_back(std::move(**l));
    return {};
  });
  ASSERT_TRUE(r.ok()) << r.error().text();
  ASSERT_TRUE(parser.finish().ok());
  auto whole = gn::parse_interrupts(text);
  ASSERT_TRUE(whole.ok());
  ASSERT_EQ(got.size(), 6u);
  ASSERT_EQ(got.size(), whole->size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].irq, (*whole)[i].irq);
    EXPECT_EQ(got[i].names, (*whole)[i].names);
  }
  EXPECT_EQ(got.back().names.back(), "virtio0-input.5");
  // The callback's error stops the reading and comes back as is; a missing file names itself.
  int calls = 0;
  auto stop = root.read_lines("proc/interrupts", [&](std::string_view) -> gn::Result<void> {
    ++calls;
    return gn::make_error("x", "stop here");
  });
  ASSERT_FALSE(stop.ok());
  EXPECT_EQ(stop.error().message, "stop here");
  EXPECT_EQ(calls, 1);
  auto missing = root.read_lines("proc/nothing", [](std::string_view) -> gn::Result<void> { return {}; });
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().target.find("proc/nothing"), std::string::npos);
}

TEST(Softnet, FourColumnLayouts) {
  struct Case {
    const char* text;
    unsigned columns;
    bool has_cpu;
  } cases[] = {
      // 3.10 / RHEL 7: 10 columns.
      {"0001e240 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000004 00000005\n"
       "00000010 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n",
       10, false},
      // 3.11+: flow_limit_count.
      {"0001e240 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000004 00000005 00000006\n"
       "00000010 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n",
       11, false},
      // 5.10+: backlog length and cpu id.
      {"0001e240 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000004 00000005 00000006 00000000 00000000\n"
       "00000010 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000003\n",
       13, true},
      // 6.4+: input and process queue lengths (as on this machine).
      {"0001e240 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000000 00000005 00000006 00000000 00000000 00000000 00000000\n"
       "0000022d 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000003 00000000 00000000\n",
       15, true},
  };
  for (const auto& c : cases) {
    auto s = gn::parse_softnet_stat(c.text);
    ASSERT_TRUE(s.ok()) << s.error().text();
    EXPECT_EQ(s->columns, c.columns);
    ASSERT_EQ(s->rows.size(), 2u);
    EXPECT_EQ(s->rows[0].processed, 123456u);
    EXPECT_EQ(s->rows[0].dropped, 2u);
    EXPECT_EQ(s->rows[0].time_squeeze, 3u);
    EXPECT_EQ(s->rows[0].received_rps, 5u);
    EXPECT_EQ(s->rows[0].flow_limit.has_value(), c.columns >= 11);
    EXPECT_EQ(s->rows[1].cpu.has_value(), c.has_cpu);
    if (c.has_cpu) {
      EXPECT_EQ(*s->rows[1].cpu, 3u);
    }
  }
}

TEST(Softnet, RejectsMalformed) {
  EXPECT_FALSE(gn::parse_softnet_stat("00000001 00000002\n").ok());
  EXPECT_FALSE(gn::parse_softnet_stat("zz 0 0 0 0 0 0 0 0 0\n").ok());
  EXPECT_FALSE(gn::parse_softnet_stat("0 0 0 0 0 0 0 0 0 0\n0 0 0 0 0 0 0 0 0 0 0\n").ok());
  // A cpu id that does not fit is an error, not CPU (id mod 2^32).
  auto big = gn::parse_softnet_stat("1 0 0 0 0 0 0 0 0 0 0 0 100000001 0 0\n");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("cpu id"), std::string::npos) << big.error().message;
}

TEST(KernelRelease, Classifies) {
  using B = gn::DriverBehaviour;
  using P = gn::XpsRxqsProbe;
  struct Case {
    const char* release;
    P probe;
    B want;
  } cases[] = {
      {"3.10.0-514.el7.x86_64", P::Absent, B::DriverSelectsQueue},   // RHEL 7.3
      {"3.10.0-693.el7.x86_64", P::Absent, B::DriverSelectsQueue},   // RHEL 7.4
      {"3.10.0-1127.el7.x86_64", P::Absent, B::DriverSelectsQueue},  // RHEL 7.8
      {"3.10.0-1127.el7.x86_64", P::Present, B::DriverSelectsQueue},  // a backport proves nothing
      {"3.10.0-1160.el7.x86_64", P::Absent, B::XpsOnlyWhenEqual},     // RHEL 7.9
      {"3.10.0-1160.el7.x86_64", P::Unknown, B::XpsOnlyWhenEqual},
      {"3.10.0-1160.el7.x86_64", P::Present, B::XpsOnlyWhenEqual},
      {"3.10.0-1160.119.1.el7.x86_64", P::Absent, B::XpsOnlyWhenEqual},
      {"3.12.74-60.64.40-default", P::Absent, B::DriverSelectsQueue},
      {"3.13.0-170-generic", P::Absent, B::XpsOnlyWhenEqual},
      {"4.18.0-80.el8.x86_64", P::Absent, B::XpsOnlyWhenEqual},      // RHEL 8.0
      {"4.18.0-80.el8.x86_64", P::Unknown, B::XpsOnlyWhenEqual},
      // RHEL 8.1 carries xps_rxqs backported without the striping driver: the build decides.
      {"4.18.0-147.el8.x86_64", P::Present, B::XpsOnlyWhenEqual},
      {"4.18.0-147.el8.x86_64", P::Absent, B::XpsOnlyWhenEqual},
      {"4.18.0-147.el8.x86_64", P::Unknown, B::XpsOnlyWhenEqual},
      {"4.18.0-147.8.1.el8_1.x86_64", P::Present, B::XpsOnlyWhenEqual},
      {"4.18.0-193.el8.x86_64", P::Present, B::XpsOnlyWhenEqual},     // RHEL 8.2
      {"4.18.0-193.el8.x86_64", P::Unknown, B::XpsOnlyWhenEqual},
      {"4.18.0-239.el8.x86_64", P::Present, B::XpsOnlyWhenEqual},
      {"4.18.0-240.el8.x86_64", P::Present, B::DriverStripes},        // RHEL 8.3
      {"4.18.0-240.el8.x86_64", P::Absent, B::DriverStripes},
      {"4.18.0-240.el8.x86_64", P::Unknown, B::DriverStripes},
      {"4.18.0-513.5.1.el8_9.x86_64", P::Present, B::DriverStripes},
      // Upstream 4.18: the feature file decides, the version when there is no queue to look at.
      {"4.18.0-25-generic", P::Absent, B::XpsOnlyWhenEqual},
      {"4.18.0-25-generic", P::Present, B::DriverStripes},
      {"4.18.20", P::Unknown, B::XpsOnlyWhenEqual},
      {"4.15.0-213-generic", P::Unknown, B::XpsOnlyWhenEqual},
      {"4.19.0-27-cloud-amd64", P::Unknown, B::DriverStripes},
      {"4.19.0-27-cloud-amd64", P::Present, B::DriverStripes},
      {"5.10.0-33-cloud-amd64", P::Unknown, B::DriverStripes},
      {"5.15.0-126-generic", P::Present, B::DriverStripes},
      {"5.14.0-362.8.1.el9_3.x86_64", P::Unknown, B::DriverStripes},
      {"5.14.0-362.8.1.el9_3.x86_64", P::Absent, B::DriverStripes},  // el9: the version decides
      {"6.1.0-28-cloud-amd64", P::Present, B::DriverStripes},
      {"6.1.0-28-cloud-amd64", P::Unknown, B::DriverStripes},
      {"6.12.12+deb13-cloud-amd64", P::Present, B::DriverStripes},
  };
  for (const auto& c : cases) {
    auto k = gn::parse_kernel_release(c.release);
    ASSERT_TRUE(k.ok()) << c.release;
    EXPECT_EQ(gn::classify_driver(*k, c.probe).behaviour, c.want) << c.release;
  }
  auto rhel = gn::parse_kernel_release("3.10.0-693.el7.x86_64\n");
  ASSERT_TRUE(rhel.ok());
  EXPECT_EQ(rhel->el, 7u);
  EXPECT_EQ(*rhel->build, 693u);
  EXPECT_FALSE(gn::parse_kernel_release("linux").ok());
  EXPECT_FALSE(gn::parse_kernel_release("").ok());
}

TEST(KernelRelease, BehaviourNamesRoundTrip) {
  for (auto b : {gn::DriverBehaviour::DriverSelectsQueue, gn::DriverBehaviour::XpsOnlyWhenEqual,
                 gn::DriverBehaviour::DriverStripes})
    EXPECT_EQ(gn::driver_behaviour_from_string(gn::to_string(b)), b);
  EXPECT_FALSE(gn::driver_behaviour_from_string("nonsense").has_value());
}

}  // namespace
