// cuda/bindings.hpp: reading CuPy arrays out of the epoch dicts, the registry of binding files, the loss.
#include "bindings.hpp"

namespace socialrec::cuda::bind {

void* device_data(const py::dict& arrays, const char* key, const char* dtype, std::int64_t size) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing array '") + key + "'");
    py::object obj = arrays[key];
    if (!py::hasattr(obj, "data") || !py::hasattr(obj.attr("data"), "ptr"))
        throw py::type_error(std::string("'") + key + "' must be a CuPy array");
    const py::dtype got = py::dtype::from_args(obj.attr("dtype"));
    if (!got.equal(py::dtype(dtype)))
        throw py::type_error(std::string("'") + key + "' has dtype " + std::string(py::str(got)) + ", expected " +
                             dtype);
    if (!obj.attr("flags").attr("c_contiguous").cast<bool>())
        throw py::value_error(std::string("'") + key + "' must be C-contiguous");
    const auto n = obj.attr("size").cast<std::int64_t>();
    if (size >= 0 && n != size)
        throw py::value_error(std::string("'") + key + "' has " + std::to_string(n) + " elements, expected " +
                              std::to_string(size));
    return reinterpret_cast<void*>(obj.attr("data").attr("ptr").cast<std::uintptr_t>());
}

Storage storage_of(const py::dict& arrays, const char* key) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing array '") + key + "'");
    return py::dtype::from_args(arrays[key].attr("dtype")).equal(py::dtype("float16")) ? Storage::float16
                                                                                      : Storage::float32;
}

void check_factor_shapes(const py::dict& arrays, const py::dict& hyper) {
    const auto factors = scalar<std::int64_t>(hyper, "factors");
    const std::string suffix = "_factors";
    for (auto item : arrays) {
        const auto key = item.first.cast<std::string>();
        if (key.size() < suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
        const py::tuple shape = item.second.attr("shape");
        if (shape.size() != 2 || shape[1].cast<std::int64_t>() != factors)
            throw py::value_error("'" + key + "' must be a matrix of " + std::to_string(factors) + " columns, got shape " +
                                  std::string(py::str(item.second.attr("shape"))));
    }
}

std::int64_t size_of(const py::dict& arrays, const char* key) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing array '") + key + "'");
    return arrays[key].attr("size").cast<std::int64_t>();
}

std::int64_t rows_of(const py::dict& arrays, const char* key) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing array '") + key + "'");
    const py::tuple shape = arrays[key].attr("shape");
    if (shape.size() != 2) throw py::value_error(std::string("'") + key + "' must be a matrix");
    return shape[0].cast<std::int64_t>();
}

namespace {

// x.item() of a reduction's 0-d result (CuPy: waits for the current stream).
template <class T>
T item(const py::object& x) {
    return x.attr("item")().cast<T>();
}

}  // namespace

std::pair<std::int64_t, std::int64_t> extremes(const py::dict& arrays, const char* key) {
    const py::object x = arrays[key];
    return {item<std::int64_t>(x.attr("min")()), item<std::int64_t>(x.attr("max")())};
}

void check_ids(const py::dict& arrays, const char* key, std::int64_t bound) {
    if (size_of(arrays, key) == 0) return;
    const auto [lo, hi] = extremes(arrays, key);
    if (lo < 0 || hi >= bound)
        throw py::index_error(std::string("'") + key + "' holds ids in [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + "], outside [0, " + std::to_string(bound) + ")");
}

std::int64_t same_rows(const py::dict& arrays, std::initializer_list<const char*> keys) {
    const std::int64_t rows = rows_of(arrays, *keys.begin());
    for (const char* key : keys)
        if (rows_of(arrays, key) != rows)
            throw py::value_error(std::string("'") + key + "' has " + std::to_string(rows_of(arrays, key)) +
                                  " rows, '" + *keys.begin() + "' " + std::to_string(rows));
    return rows;
}

void check_offsets(const py::dict& arrays, const char* key, std::int64_t rows, std::int64_t end) {
    const py::object offsets = arrays[key];
    const auto first = item<std::int64_t>(offsets[py::int_(0)]), last = item<std::int64_t>(offsets[py::int_(rows)]);
    if (first != 0 || last != end)
        throw py::value_error(std::string("'") + key + "' runs from " + std::to_string(first) + " to " +
                              std::to_string(last) + ", expected 0 to " + std::to_string(end));
    // compared, not subtracted: hostile offsets near the int64 limits cannot wrap around
    const py::object next = offsets[py::slice(1, rows + 1, 1)], previous = offsets[py::slice(0, rows, 1)];
    if (rows > 0 && item<bool>(next.attr("__lt__")(previous).attr("any")()))
        throw py::value_error(std::string("'") + key + "' decreases");
}

py::dict nested(const py::dict& arrays, const char* key) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing '") + key + "'");
    return arrays[key].cast<py::dict>();
}

double* loss_slots(const py::dict& arrays, std::int64_t passes) {
    return static_cast<double*>(device_data(arrays, "loss", "float64", passes));
}

std::vector<RegisterFn>& registered_bindings() {
    static std::vector<RegisterFn> fns;
    return fns;
}

Executor executor_of(const py::dict& settings) {
    if (!settings.contains("executor")) return Executor::device;
    const auto name = settings["executor"].cast<std::string>();
    if (name == "device") return Executor::device;
    if (name == "host") return Executor::host;
    if (name == "host_interleaved") return Executor::host_interleaved;
    if (name == "host_warp") return Executor::host_warp;
    throw py::value_error("settings['executor'] must be 'device', 'host', 'host_interleaved' or 'host_warp', got '" +
                          name + "'");
}

double read_loss(const double* loss, std::int64_t passes, cudaStream_t stream, Executor executor) {
    if (executor != Executor::device) {
        double total = 0.0;
        for (std::int64_t p = 0; p < passes; ++p) total += loss[p];
        return total;
    }
    std::vector<double> host(static_cast<std::size_t>(passes));
    check(cudaMemcpyAsync(host.data(), loss, sizeof(double) * host.size(), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync(loss)");
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    double total = 0.0;
    for (double x : host) total += x;
    return total;
}

}  // namespace socialrec::cuda::bind
