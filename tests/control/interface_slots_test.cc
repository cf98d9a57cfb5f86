#include "control/interface_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace sgate::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A running program as InterfaceSlots sees it: flows per slot, the
// flow-log writer's progress, and which slots were reset.
struct FakeProgram {
  std::map<uint16_t, uint64_t> flows;
  uint64_t written = 0;  // intervals written
  std::vector<uint16_t> resets;

  InterfaceSlots::Hooks Hooks() {
    return {.flows = [this](uint16_t s) { return flows[s]; },
            .mark = [this] { return written; },
            .written_since = [this](uint64_t mark) { return written > mark; },
            .reset = [this](uint16_t s) { resets.push_back(s); }};
  }
};

std::vector<uint16_t> Publish(InterfaceSlots& slots,
                              const std::vector<std::string>& names) {
  absl::StatusOr<std::vector<uint16_t>> assigned = slots.Assign(names);
  EXPECT_TRUE(assigned.ok()) << assigned.status();
  slots.Commit();
  return assigned.value_or(std::vector<uint16_t>());
}

TEST(InterfaceSlotsTest, AnInterfaceKeepsItsSlotWhenTheTableRenumbers) {
  InterfaceSlots slots;
  EXPECT_THAT(Publish(slots, {"eni-a", "eni-b"}), ElementsAre(0, 1));
  // eni-0 sorts first: table ids move, slots do not.
  EXPECT_THAT(Publish(slots, {"eni-0", "eni-a", "eni-b"}), ElementsAre(2, 0, 1));
  EXPECT_EQ(slots.NameOf(2), "eni-0");
  std::vector<InterfaceSlots::Slot> in_use = slots.InUse();
  ASSERT_EQ(in_use.size(), 3u);
  EXPECT_EQ(in_use[0].name, "eni-a");
  EXPECT_TRUE(in_use[0].live);
}

TEST(InterfaceSlotsTest, ARemovedInterfaceKeepsItsSlotWhileItHasFlows) {
  FakeProgram program;
  InterfaceSlots slots;
  slots.set_hooks(program.Hooks());
  Publish(slots, {"eni-a", "eni-b"});
  program.flows[0] = 2;
  Publish(slots, {"eni-b"});
  std::vector<InterfaceSlots::Slot> in_use = slots.InUse();
  ASSERT_EQ(in_use.size(), 2u);
  EXPECT_EQ(in_use[0].name, "eni-a");
  EXPECT_FALSE(in_use[0].live);
  // Back before its flows are gone: the same slot, so they still count.
  EXPECT_THAT(Publish(slots, {"eni-a", "eni-b"}), ElementsAre(0, 1));
  EXPECT_TRUE(program.resets.empty());
}

TEST(InterfaceSlotsTest, ASlotChangesHandsOnlyOnceNothingRefersToIt) {
  FakeProgram program;
  InterfaceSlots slots;
  slots.set_hooks(program.Hooks());
  // Fill every slot, then retire eni-0 (slot 0) with a flow left.
  std::vector<std::string> names;
  for (uint32_t i = 0; i < dataplane::kMaxInterfaceSlots; ++i) {
    names.push_back("eni-" + std::to_string(i));
  }
  Publish(slots, names);
  const uint64_t serial = slots.SerialOf(0);
  program.flows[0] = 1;
  names.erase(names.begin());
  Publish(slots, names);
  names.push_back("eni-new");
  // No slot is free: eni-0's flow holds slot 0.
  absl::StatusOr<std::vector<uint16_t>> refused = slots.Assign(names);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(),
              HasSubstr("more than 16384 interfaces enforced on this node"));
  // Its flow is gone, but the flow log has not yet written what it took.
  program.flows[0] = 0;
  EXPECT_FALSE(slots.Assign(names).ok());
  // Written: the slot is reset and given to eni-new, under a new serial.
  program.written = 1;
  absl::StatusOr<std::vector<uint16_t>> assigned = slots.Assign(names);
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  EXPECT_EQ(assigned->back(), 0u);
  EXPECT_THAT(program.resets, ElementsAre(0));
  slots.Commit();
  EXPECT_EQ(slots.NameOf(0), "eni-new");
  EXPECT_NE(slots.SerialOf(0), serial);
}

TEST(InterfaceSlotsTest, ARefusedPolicyGivesItsNewSlotsBack) {
  InterfaceSlots slots;
  Publish(slots, {"eni-a"});
  ASSERT_TRUE(slots.Assign({"eni-a", "eni-b", "eni-c"}).ok());
  slots.Rollback();
  EXPECT_EQ(slots.InUse().size(), 1u);
  EXPECT_THAT(Publish(slots, {"eni-a", "eni-d"}), ElementsAre(0, 1));
}

}  // namespace
}  // namespace sgate::control
