#pragma once

#include <rte_log.h>

namespace sgate::control {

// The control plane's DPDK log type, "sgate.control" (STYLE.md 13):
// `--log-level=sgate.control:debug` on the EAL command line tunes it.
extern int g_control_logtype;

}  // namespace sgate::control

#define SGATE_LOG(level, ...)                                   \
  rte_log(RTE_LOG_##level, ::sgate::control::g_control_logtype, \
          "sgate: " __VA_ARGS__)
