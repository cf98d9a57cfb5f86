#include "control/log.h"

namespace sgate::control {

RTE_LOG_REGISTER(g_control_logtype, sgate.control, INFO);

}  // namespace sgate::control
