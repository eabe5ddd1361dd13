// Conversions shared by all bindings.
#include "bindings.hpp"
#include "socialrec/parallel.hpp"

#include <algorithm>
#include <string>

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

RatingGrid rating_grid(const py::dict& arrays) {
    RatingGrid grid{};
    // The kernel keeps raw pointers: the caller's arrays are used as they are, never a converted temporary.
    const FlatList<RatingRecord> records = record_list<RatingRecord>(arrays, "records");
    std::int64_t n_offsets = 0;
    grid.offsets = input_data<std::int64_t>(arrays, "offsets", &n_offsets);
    grid.records = records.records;
    grid.blocks = scalar<std::int32_t>(arrays, "blocks");
    // blocks = -1 would pass the size check below (B*B = 1) and then size a vector with (size_t)-1.
    if (grid.blocks < 1) throw py::value_error("grid 'blocks' must be at least 1");
    if (n_offsets != std::int64_t(grid.blocks) * grid.blocks + 1)
        throw py::value_error("grid 'offsets' must have blocks*blocks + 1 entries");
    if (grid.offsets[n_offsets - 1] != records.size)
        throw py::value_error("grid 'offsets' does not end at the number of records");
    return grid;
}

void check_shape(const py::dict& arrays, const char* key, std::vector<std::int64_t> shape) {
    auto array = arrays[key].cast<py::array>();
    bool ok = array.ndim() == py::ssize_t(shape.size());
    for (std::size_t d = 0; ok && d < shape.size(); ++d) ok = array.shape(py::ssize_t(d)) == shape[d];
    if (!ok) throw py::value_error(std::string("'") + key + "' does not have the expected shape");
}

void check_sorted_csr(const std::int64_t* indptr, std::int64_t n_rows, const std::int32_t* indices,
                      std::int64_t n_indices, std::int64_t n_cols, const char* what) {
    if (indptr[0] != 0 || indptr[n_rows] != n_indices)
        throw py::value_error(std::string(what) + ": indptr must start at 0 and end at the number of indices");
    for (std::int64_t r = 0; r < n_rows; ++r) {
        if (indptr[r + 1] < indptr[r])
            throw py::value_error(std::string(what) + ": indptr decreases at row " + std::to_string(r));
        for (std::int64_t k = indptr[r]; k < indptr[r + 1]; ++k) {
            if (indices[k] < 0 || indices[k] >= n_cols || (k > indptr[r] && indices[k] <= indices[k - 1]))
                throw py::value_error(std::string(what) + ": row " + std::to_string(r) +
                                      " is not a strictly increasing list of indices in [0, " +
                                      std::to_string(n_cols) + ")");
        }
    }
}

Interactions interactions(const py::dict& arrays, std::int32_t n_items) {
    Interactions data{};
    std::int64_t n_ptr = 0, n_indices = 0, n_pool_items = 0;
    data.indptr = input_data<std::int64_t>(arrays, "indptr", &n_ptr);
    data.indices = input_data<std::int32_t>(arrays, "indices", &n_indices);
    data.pool_users = input_data<std::int32_t>(arrays, "pool_users", &data.n_pool);
    data.pool_items = input_data<std::int32_t>(arrays, "pool_items", &n_pool_items);
    data.n_items = n_items;
    if (n_ptr < 1) throw py::value_error("'indptr' must have n_users + 1 entries");
    if (n_pool_items != data.n_pool) throw py::value_error("'pool_users' and 'pool_items' differ in length");
    const std::int64_t n_users = n_ptr - 1;
    check_sorted_csr(data.indptr, n_users, data.indices, n_indices, n_items, "interactions");
    for (std::int64_t r = 0; r < data.n_pool; ++r) {
        const std::int32_t u = data.pool_users[r];
        // (u, i) must index the arrays and u must have an unconsumed item (else no negative can be drawn)
        if (u < 0 || u >= n_users || data.pool_items[r] < 0 || data.pool_items[r] >= n_items ||
            data.indptr[u + 1] - data.indptr[u] >= n_items)
            throw py::value_error("pool entry " + std::to_string(r) + " is not an interaction of a user with an "
                                  "unconsumed item");
    }
    return data;
}

PassSettings pass_settings(const py::dict& d) {
    PassSettings s;
    s.seed = d["seed"].cast<std::uint64_t>();
    s.epoch = d["epoch"].cast<std::int64_t>();
    const auto threads = d["threads"].cast<std::int64_t>();
    if (threads < 0 || threads > kMaxThreads)
        throw py::value_error("threads=" + std::to_string(threads) + " must be in [0, " + std::to_string(kMaxThreads) +
                              "] (0: all cores)");
    s.threads = std::int32_t(threads);
    s.deterministic = d["deterministic"].cast<bool>();
    if (d.contains("interruptible") && d["interruptible"].cast<bool>()) s.poll = &poll_python_signals;
    return s;
}

bool is_float64(const py::dict& arrays, const char* key) {
    auto array = arrays[key].cast<py::array>();
    if (array.dtype().equal(py::dtype::of<double>())) return true;
    if (array.dtype().equal(py::dtype::of<float>())) return false;
    throw py::type_error(std::string("'") + key + "' must be float32 or float64");
}

}  // namespace socialrec::bind
