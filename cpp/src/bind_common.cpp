// Conversions shared by all bindings.
#include "bindings.hpp"

namespace socialrec::bind {

namespace {
bool poll_python_signals(void*) {
    py::gil_scoped_acquire acquire;
    return PyErr_CheckSignals() != 0;
}
}  // namespace

std::vector<RegisterFn>& registered_bindings() {
    static std::vector<RegisterFn> fns;
    return fns;
}

FlatList<RatingRecord> record_list(const py::dict& arrays, const char* key) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing record array '") + key + "'");
    auto records = arrays[key].cast<py::array>();
    if (records.itemsize() != sizeof(RatingRecord) || records.ndim() != 1 || !(records.flags() & py::array::c_style) ||
        !records.writeable())
        throw py::value_error(std::string("'") + key +
                              "' must be a writeable C-contiguous 1-D array of 12-byte (int32, int32, float32) records");
    return FlatList<RatingRecord>{static_cast<RatingRecord*>(records.mutable_data()), records.size()};
}

RatingGrid rating_grid(const py::dict& arrays) {
    RatingGrid grid{};
    auto records = arrays["records"].cast<py::array>();
    if (records.itemsize() != sizeof(RatingRecord) || !(records.flags() & py::array::c_style) || !records.writeable())
        throw py::value_error("grid 'records' must be a writeable C-contiguous array of 12-byte (user, item, value) records");
    grid.records = static_cast<RatingRecord*>(records.mutable_data());
    py::object offsets_obj = arrays["offsets"];
    auto offsets = offsets_obj.cast<py::array_t<std::int64_t, py::array::c_style>>();
    // The kernel keeps a raw pointer: the caller's array must be used as is, not a converted temporary.
    if (!offsets_obj.is(offsets)) throw py::type_error("grid 'offsets' must be a C-contiguous int64 array");
    grid.blocks = arrays["blocks"].cast<std::int32_t>();
    if (offsets.size() != std::int64_t(grid.blocks) * grid.blocks + 1)
        throw py::value_error("grid 'offsets' must have blocks*blocks + 1 entries");
    if (offsets.at(offsets.size() - 1) != records.size())
        throw py::value_error("grid 'offsets' does not end at the number of records");
    grid.offsets = offsets.data();
    return grid;
}

PassSettings pass_settings(const py::dict& d) {
    PassSettings s;
    s.seed = d["seed"].cast<std::uint64_t>();
    s.epoch = d["epoch"].cast<std::int64_t>();
    s.threads = d["threads"].cast<std::int32_t>();
    s.deterministic = d["deterministic"].cast<bool>();
    if (d.contains("interruptible") && d["interruptible"].cast<bool>()) s.poll = &poll_python_signals;
    return s;
}

bool is_float64(const py::dict& arrays, const char* key) {
    auto array = arrays[key].cast<py::array>();
    if (array.dtype().is(py::dtype::of<double>())) return true;
    if (array.dtype().is(py::dtype::of<float>())) return false;
    throw py::type_error(std::string("'") + key + "' must be float32 or float64");
}

}  // namespace socialrec::bind
