#pragma once

#include "control/stats_snapshot.h"

namespace sgate::control {

// DPDK telemetry commands, so that dpdk-telemetry.py works too
// (DESIGN.md §6): /sgate/stats, /sgate/ports, /sgate/rules,
// /sgate/interfaces and /sgate/generation. Their callbacks run on DPDK's telemetry thread, so
// they read the latest snapshot the control loop published
// (control/latest_stats.h), never live state that a reload could free.
void RegisterTelemetry();

}  // namespace sgate::control
