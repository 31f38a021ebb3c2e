#pragma once
// Simulated Modbus devices: what each unit id serves and how its values move over time.
//
// A DeviceSet is built from a devices file (see README.md), the built-in default set, or a
// generated benchmark set. It owns one modbus_mapping_t per unit, animates the points every
// tick, and leaves alone any register or coil a client has written, so writes stick.

#include <modbus.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace nodebridge::sim {

enum class Table { coil, discrete, input, holding };
enum class PointType {
    boolean,
    int16,
    uint16,
    int32,
    uint32,
    int64,
    uint64,
    float32,
    float64,
    string
};
enum class Signal { constant, noise, ramp, sine, counter, product };

// One value a device serves, and how it moves.
struct Point {
    std::string name;  // optional; lets `product` refer to it
    Table table = Table::holding;
    std::uint16_t address = 0;
    PointType type = PointType::uint16;
    std::uint16_t length = 0;        // string: registers
    bool little_word_order = false;  // low word first in multi-register types
    bool byte_swap = false;
    Signal signal = Signal::constant;
    double value = 0;                // constant
    std::string text;                // constant string
    double base = 0, amplitude = 0;  // noise, sine
    double min = 0, max = 1;         // ramp
    double period_s = 60;            // ramp, sine
    double rate = 1;                 // counter: increase per second
    std::vector<std::string> of;     // product: names of two earlier points

    // Registers (or bits) the point occupies.
    std::uint16_t width() const;
};

struct DeviceSpec {
    int unit = 1;
    // Extra time before this unit answers (RTU), beyond the frame-ending silence; unset =
    // the line's --turnaround.
    std::optional<double> turnaround_s;
    std::vector<Point> points;
    // Table sizes (addresses 0..size-1 exist); unset = just what the points use.
    std::map<Table, std::uint32_t> sizes;
    // Address ranges [first, last] a read must not touch: such a read gets exception 2
    // (illegal data address), as from a device with holes in its register map.
    std::vector<std::tuple<Table, std::uint32_t, std::uint32_t>> unmapped;
    // Read Device Identification objects (function 43 / MEI 14, APP V1.1b3 section 6.21),
    // sorted by id. Empty: function 43 gets exception 1 (illegal function), as from a device
    // without it.
    std::vector<std::pair<std::uint8_t, std::string>> identification;
    // Registers that answer a read of exactly their own width with fixed words, whatever the
    // tables hold there, with function 3 or 4 alike: a model's identification registers (a
    // Carlo Gavazzi meter answers its code at 000Bh only to a one-word read).
    struct FixedRead {
        std::uint16_t address = 0;
        std::vector<std::uint16_t> words;
    };
    std::vector<FixedRead> fixed_reads;
};

// "60s", "500ms", "2m", "1h" or a bare number of seconds; nullopt when invalid, negative,
// or zero unless `allow_zero`.
std::optional<double> parse_seconds(const std::string& text, bool allow_zero = false);

// The default devices: units 1 and 2 are PDUs, unit 7 a meter (README.md lists them).
std::vector<DeviceSpec> default_devices();

// `nodes` units (1..nodes), each with `attributes` float32 input registers from address 0.
std::vector<DeviceSpec> generated_devices(int nodes, int attributes);

// The device set the common options choose: --devices FILE, or --nodes N --attributes M,
// or the default set. Returns nullptr and sets `error` when they are invalid.
class Options;
std::unique_ptr<class DeviceSet> devices_from_options(Options& options, std::string& error);

// Reads a devices file. Returns nullopt and sets `error` ("FILE: message") when invalid.
std::optional<std::vector<DeviceSpec>> load_devices(const std::string& path, std::string& error);

class DeviceSet {
  public:
    // Validates `specs` (unit ids 0..247 unique, points inside their table sizes, product
    // names known). Returns nullptr and sets `error` when invalid.
    static std::unique_ptr<DeviceSet> create(std::vector<DeviceSpec> specs, std::string& error);
    ~DeviceSet();
    DeviceSet(const DeviceSet&) = delete;
    DeviceSet& operator=(const DeviceSet&) = delete;

    // The mapping that serves `unit`, or nullptr when no device has that unit id.
    modbus_mapping_t* mapping(int unit);

    // Notes the registers or coils a write request for `unit` will change, so animation
    // leaves them alone from now on. `pdu` starts at the function code; `size` bounds it.
    void note_request(int unit, const std::uint8_t* pdu, std::size_t size);

    // Moves every animated point to its value at `seconds` since start.
    void tick(double seconds);

    // "1,2,7"
    std::string unit_list() const;

    // Whether `pdu` (function code first, as on either transport) is a read (functions 1..4)
    // that touches an unmapped range of `unit`: the device answers it with exception 2.
    bool refuses(int unit, const std::uint8_t* pdu, std::size_t size) const;

    // The reply PDU for a request the tables do not answer: function 43 / MEI 14 of a unit
    // with identification, or a read of one of its fixed_reads. Nullopt: answer as usual.
    std::optional<std::vector<std::uint8_t>> special_reply(int unit, const std::uint8_t* pdu,
                                                           std::size_t size) const;

    // The device file's turnaround for `unit`, if it set one.
    std::optional<double> turnaround(int unit) const;

  private:
    struct Device {
        DeviceSpec spec;
        modbus_mapping_t* mapping = nullptr;
        std::set<std::pair<Table, std::uint32_t>> written;  // client-owned addresses
        std::vector<double> current;                        // per point, this tick
        std::vector<double> counters;                       // per point, counter state
        std::vector<std::pair<int, int>> factors;           // per point, product operands
    };
    DeviceSet() = default;
    void write_point(Device& device, std::size_t index, double value);

    std::map<int, Device> devices_;
    std::mt19937 random_{12345};
    double last_tick_ = 0;
};

}  // namespace nodebridge::sim
