#include "unit_health.hpp"

namespace nodebridge::modbus {

UnitHealth::Change UnitHealth::record_poll(bool answered) {
    if (answered) {
        failures_ = 0;
        if (!dead_) return Change::none;
        dead_ = false;
        return Change::revived;
    }
    if (failures_ < dead_after_) ++failures_;
    if (dead_ || dead_after_ == 0 || failures_ < dead_after_) return Change::none;
    dead_ = true;
    return Change::died;
}

}  // namespace nodebridge::modbus
