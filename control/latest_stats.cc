#include "control/latest_stats.h"

#include <mutex>

namespace sgate::control {
namespace {

std::mutex g_mutex;
StatsSnapshot g_snapshot;  // guarded by g_mutex

}  // namespace

void PublishLatestStats(StatsSnapshot snapshot) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_snapshot = std::move(snapshot);
}

StatsSnapshot LatestStats() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_snapshot;
}

}  // namespace sgate::control
