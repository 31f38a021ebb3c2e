#pragma once
// Which library models a unit is, from what it answered (docs/models.md, "Recognising a
// device"): pure logic over the Read Device Identification reply and a way to read one
// identification register. No I/O of its own, so tests drive it with any answers.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "device_id.hpp"
#include "nodebridge/config.hpp"

namespace nodebridge::cli {

// What reading one identification register gave.
struct RegisterAnswer {
    std::optional<std::vector<std::uint16_t>> words;  // the reply's words; unset: no value
    std::string error;                                // why not, e.g. "illegal data address"
};

// Reads `reg` alone: one request of the register's own width (1, 2 or 4 words) of its table.
using ReadRegister = std::function<RegisterAnswer(const IdentifyRegister& reg)>;

// One model that fits, with what showed it.
struct Candidate {
    ModelRef model;
    int checks = 0;                     // how many checks held (all of the model's did)
    std::vector<std::string> evidence;  // "input 0x000B = 71 (fits 71, 72, 73)"
};

// The value `words` hold for `reg`'s type and word order; nullopt when there are not as many
// words as the type needs.
std::optional<std::int64_t> register_value(const IdentifyRegister& reg,
                                           const std::vector<std::uint16_t>& words);

// Registers `reg`'s type occupies: 1, 2 or 4.
std::uint16_t register_width(const IdentifyRegister& reg);

// Every model of `models` with an `identify:` whose every check holds: its strings against
// `id` (the device's Read Device Identification reply, unset when it gave none), its
// registers as `read` reads them (each register read once, however many models name it).
// Sorted best first: more checks held, then by name. Empty: unknown.
std::vector<Candidate> match_models(const std::vector<ModelRef>& models,
                                    const std::optional<modbus::device_id::Reply>& id,
                                    const ReadRegister& read);

// The distinct identification registers of `models` (by table, address and width): how
// many requests identifying one unit takes at most, besides function 43.
std::size_t identification_reads(const std::vector<ModelRef>& models);

}  // namespace nodebridge::cli
