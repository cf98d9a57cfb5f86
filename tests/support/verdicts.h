#pragma once

// Assertions on an Enforcer's Verdict that name the drop reason when they
// fail (the dataplane tests').

#include <gtest/gtest.h>

#include "dataplane/enforcer.h"

#define EXPECT_FORWARD(v) EXPECT_TRUE((v).forward) << DropReasonName((v).reason)
#define EXPECT_DROP(v, r)                                               \
  do {                                                                  \
    ::sgate::dataplane::Verdict verdict_ = (v);                         \
    EXPECT_FALSE(verdict_.forward);                                     \
    EXPECT_STREQ(DropReasonName(verdict_.reason), DropReasonName(r));   \
  } while (0)
