// socialrec._core.pack_grid_csr: packs a CSR matrix into the rating grid (cpp/include/socialrec/pack.hpp)
// without the int64 temporaries of a NumPy argsort. Not an SGD kernel: compiled once with the bindings.
#include <string>

#include "bind_arrays.hpp"
#include "socialrec/pack.hpp"
#include "socialrec/parallel.hpp"

namespace socialrec::bind {
namespace {

void pack(const py::object& indptr_obj, const py::object& indices_obj, const py::object& values_obj,
          std::int64_t n_cols, std::int32_t blocks, py::array records_out, py::array offsets_out, int threads) {
    const auto indptr = input<std::int64_t>(indptr_obj, "indptr");
    const auto indices = input<std::int32_t>(indices_obj, "indices");
    const auto values = input<float>(values_obj, "values");
    if (indptr.ndim() != 1 || indptr.shape(0) < 1) throw py::value_error("indptr must have n_rows + 1 entries");
    const std::int64_t n_rows = indptr.shape(0) - 1, nnz = indices.size();
    if (values.size() != nnz) throw py::value_error("values and indices differ in length");
    if (blocks < 1) throw py::value_error("blocks must be at least 1");
    if (threads < 0) throw py::value_error("threads must be >= 0 (0 = all cores)");
    if (n_cols < 0 || n_cols > (std::int64_t(1) << 31)) throw py::value_error("n_cols out of range");
    const std::int64_t* p = indptr.data();
    if (p[0] != 0 || p[n_rows] != nnz) throw py::value_error("indptr must start at 0 and end at the number of indices");
    for (std::int64_t r = 0; r < n_rows; ++r)
        if (p[r + 1] < p[r]) throw py::value_error("indptr decreases at row " + std::to_string(r));
    const std::int32_t* c = indices.data();
    for (std::int64_t j = 0; j < nnz; ++j)
        if (c[j] < 0 || c[j] >= n_cols)
            throw py::value_error("indices[" + std::to_string(j) + "] = " + std::to_string(c[j]) +
                                  " is outside [0, " + std::to_string(n_cols) + ")");
    if (records_out.itemsize() != sizeof(RatingRecord) || records_out.ndim() != 1 || records_out.size() != nnz ||
        !(records_out.flags() & py::array::c_style) || !records_out.writeable())
        throw py::value_error("records must be a writeable C-contiguous array of nnz 12-byte records");
    if (!offsets_out.dtype().equal(py::dtype::of<std::int64_t>()) || offsets_out.ndim() != 1 ||
        offsets_out.size() != std::int64_t(blocks) * blocks + 1 || !(offsets_out.flags() & py::array::c_style) ||
        !offsets_out.writeable())
        throw py::value_error("offsets must be a writeable C-contiguous int64 array of blocks*blocks + 1 entries");
    auto* offsets = static_cast<std::int64_t*>(offsets_out.mutable_data());
    auto* records = static_cast<RatingRecord*>(records_out.mutable_data());
    const CsrView m{p, c, values.data(), n_rows, n_cols};
    py::gil_scoped_release release;
    pack_grid_csr(m, blocks, records, offsets, resolve_threads(threads));
}

const Registrar pack_registrar{[](py::module_& m) {
    m.def("pack_grid_csr", &pack, py::arg("indptr"), py::arg("indices"), py::arg("values"), py::arg("n_cols"),
          py::arg("blocks"), py::arg("records"), py::arg("offsets"), py::arg("threads") = 0,
          "Fills records (nnz 12-byte (row, col, value) records) and offsets (blocks*blocks + 1 int64) with the\n"
          "rating grid of a CSR matrix: block (a, b) holds rows r with r*blocks//n_rows == a and columns c with\n"
          "c*blocks//n_cols == b, in CSR order. Same result as socialrec._engine.pack_grid, on any number of\n"
          "threads (0 = all cores).");
}};

}  // namespace
}  // namespace socialrec::bind
