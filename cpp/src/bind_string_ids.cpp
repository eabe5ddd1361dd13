// socialrec._core.number_strings: string ids numbered in order of first appearance, read straight from Arrow's
// buffers (socialrec/string_ids.hpp). Used by Dataset.from_pandas for Arrow-backed string columns.
#include <string>
#include <vector>

#include "bind_arrays.hpp"
#include "socialrec/string_ids.hpp"

namespace socialrec::bind {
namespace {

struct Chunk {
    py::array offsets;  // int32 or int64, n + 1 entries
    Input<std::uint8_t> data;
    std::int64_t n;
    bool wide;
};

// Checks one chunk's offsets against its byte buffer: non-decreasing, inside the buffer. Hostile or damaged
// buffers must raise here, not read out of bounds in the loop that follows.
template <class Offset>
void check_offsets(const py::array& offsets, std::int64_t bytes, std::size_t chunk) {
    const auto* o = static_cast<const Offset*>(offsets.data());
    const std::int64_t n = offsets.shape(0) - 1;
    const auto where = "chunk " + std::to_string(chunk) + ": ";
    if (o[0] < 0) throw py::value_error(where + "offsets[0] is negative");
    for (std::int64_t k = 0; k < n; ++k)
        if (o[k + 1] < o[k]) throw py::value_error(where + "offsets decrease at " + std::to_string(k + 1));
    if (static_cast<std::int64_t>(o[n]) > bytes)
        throw py::value_error(where + "offsets run past the data buffer (" + std::to_string(o[n]) + " > " +
                              std::to_string(bytes) + " bytes)");
}

py::tuple number(const py::list& chunks) {
    std::vector<Chunk> parts;
    std::int64_t total = 0;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        auto pair = chunks[c].cast<py::tuple>();
        if (pair.size() != 2) throw py::value_error("each chunk is an (offsets, data) pair");
        auto offsets = pair[0].cast<py::array>();
        const bool wide = offsets.dtype().equal(py::dtype::of<std::int64_t>());
        if (!wide && !offsets.dtype().equal(py::dtype::of<std::int32_t>()))
            throw py::type_error("offsets must be int32 (Arrow string) or int64 (Arrow large_string)");
        if (offsets.ndim() != 1 || offsets.shape(0) < 1 || !(offsets.flags() & py::array::c_style))
            throw py::value_error("offsets must be a C-contiguous 1-D array of n + 1 entries");
        auto data = input<std::uint8_t>(pair[1], "data");
        if (data.ndim() != 1) throw py::value_error("data must be a 1-D byte array");
        if (wide)
            check_offsets<std::int64_t>(offsets, data.shape(0), c);
        else
            check_offsets<std::int32_t>(offsets, data.shape(0), c);
        const std::int64_t n = offsets.shape(0) - 1;
        parts.push_back(Chunk{offsets, std::move(data), n, wide});
        total += n;
    }
    py::array_t<std::int64_t> codes(total);
    StringNumbering numbering;
    {
        py::gil_scoped_release release;  // a user and an item column are numbered on two threads at once
        std::int64_t base = 0;
        for (const Chunk& part : parts) {
            const auto* bytes = part.data.data();
            if (part.wide)
                number_strings(static_cast<const std::int64_t*>(part.offsets.data()), part.n, bytes, base, numbering,
                               codes.mutable_data() + base);
            else
                number_strings(static_cast<const std::int32_t*>(part.offsets.data()), part.n, bytes, base, numbering,
                               codes.mutable_data() + base);
            base += part.n;
        }
    }
    const auto& first = numbering.first_positions();
    py::array_t<std::int64_t> first_rows(static_cast<py::ssize_t>(first.size()));
    std::copy(first.begin(), first.end(), first_rows.mutable_data());
    return py::make_tuple(codes, first_rows);
}

static Registrar string_ids_registrar{[](py::module_& m) {
    m.def("number_strings", &number, py::arg("chunks"),
          "Number string ids in order of first appearance. `chunks` is a list of (offsets, data) pairs, Arrow's\n"
          "buffers of consecutive string chunks: string k of a chunk is data[offsets[k]:offsets[k + 1]]\n"
          "(offsets int32 or int64, data uint8). Returns (codes, first_rows): int64 codes, one per string,\n"
          "and the row where each distinct string first appears, in code order.");
}};

}  // namespace
}  // namespace socialrec::bind
