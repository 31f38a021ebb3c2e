#pragma once
// Simulated devices that serve a device model (docs/models.md): `--model NAME --units LIST`.
// Every attribute of the model becomes a point at the model's address, encoded as the model
// says (type, word order, byte swap, scale and offset undone), with a plausible value for its
// quantity: mains voltage near 230 V (400 V line to line), a current ramp, mains frequency
// near 50 Hz, a rising energy counter, room temperature and humidity, and so on.

#include <optional>
#include <string>
#include <vector>

#include "devices.hpp"
#include "nodebridge/config.hpp"

namespace nodebridge::sim {

// "1-10", "1,3,10-20": unit ids 0..247, ascending and each once. Nullopt and `error` set when
// the text is not such a list.
std::optional<std::vector<int>> parse_units(const std::string& text, std::string& error);

// One device per unit serving `model`.
std::vector<DeviceSpec> model_devices(const DeviceModel& model, const std::vector<int>& units);

// Reads the models of `dirs` (each DIR/*.yaml, as nodebridged's --model-dir) and returns the
// one named `name`. Nullopt and `error` set (the loader's FILE:LINE:COL lines, or "unknown
// model") otherwise.
std::optional<DeviceModel> find_model(const std::string& name, const std::vector<std::string>& dirs,
                                      std::string& error);

}  // namespace nodebridge::sim
