#pragma once

#include "control/stats_snapshot.h"

namespace sgate::control {

// The latest StatsSnapshot the control loop took, for the readers that run
// on threads of their own: DPDK telemetry's callbacks and the Prometheus
// exposer's. They read this copy (under a mutex), never the workers or
// live state a reload could free, so a scrape never touches the packet
// path. The control loop publishes a new one every iteration (20 ms).
void PublishLatestStats(StatsSnapshot snapshot);
StatsSnapshot LatestStats();

}  // namespace sgate::control
