// Reading a model's argument struct (RSTEArgs<T>, ...) from the dicts of its epoch entry point, and
// registering that entry point. A binding file lists the struct's members once; each member is read from the
// key of its own name, by the reader that its type selects.
//
// An epoch entry point is `<name>(arrays, hyper, settings) -> loss`: `arrays` holds NumPy arrays (and
// sub-dicts for extra rating grids) by key, `hyper` holds scalars by key, `settings` is the PassSettings
// dict. python/socialrec/models/<model>.py builds the dicts; the CUDA bindings read the same keys, so a
// member's name is the key (rename the member, not the key, where they differ).
//
// read_field(d, key, member) overloads, chosen by the member's type:
//
//   member type                  read from      as                                      checked
//   T* (T arithmetic)            arrays[key]    a parameter array updated in place      exact dtype, C-contiguous,
//                                                                                       writeable (inplace_data)
//   const T*                     arrays[key]    an input array                          exact dtype, C-contiguous
//   FlatList<T>                  arrays[key]    a 1-D list a pass shuffles in place     as T* (flat_list)
//   Record*, FlatList<Record>    arrays[key]    packed 12-byte records                  item size, 1-D, C-contiguous,
//                                                                                       writeable (record_list)
//   RatingGrid                   arrays[key]    a sub-dict {records, offsets, blocks};  rating_grid
//                                arrays         for the member `grid`, whose keys the models spread into arrays
//   std::int32_t, double, bool   hyper[key]     a setting                               present (scalar)
//   a struct with read_args      both dicts     a nested argument struct (SBPRArgs::bpr) its read_args
//
// A missing key raises KeyError, a wrong dtype TypeError, a wrong layout or size ValueError, each naming
// the key. What cannot be read by name (sizes from another array, CSR structure, members read only under a
// flag, members computed from several keys) follows the member list in plain code:
//
//     template <class T>
//     void read_args(const Dicts& d, SocialMFArgs<T>& a) {
//         SOCIALREC_READ((grid)(user_factors)(item_factors)(trusters)(trust_offsets)(factors)...);
//         ...checks of the trust CSR...
//     }
//     SOCIALREC_EPOCH(social_mf_epoch, SocialMFArgs, "One SGD epoch of SocialMF ...")
//
// and a struct read by name only is one line: SOCIALREC_ARGS(SoRecArgs, (grid)(link_grid)(user_factors)...).
//
// read_args overloads live in namespace socialrec::bind (not an unnamed one): def_epoch and the nested
// reader find them by argument-dependent lookup. Nothing here reaches the kernel headers' users: nvcc and
// the kernel variants never include this file.
#pragma once
#include <string>
#include <type_traits>

#include "bindings.hpp"

namespace socialrec::bind {

// The two dicts an argument struct is read from (views: they live as long as the call).
struct Dicts {
    const py::dict& arrays;
    const py::dict& hyper;
};

// A setting: hyper[key].
template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> read_field(const Dicts& d, const char* key, T& setting) {
    setting = scalar<T>(d.hyper, key);
}

// A parameter array the kernel updates in place.
template <class T>
std::enable_if_t<std::is_arithmetic_v<T> && !std::is_const_v<T>> read_field(const Dicts& d, const char* key,
                                                                           T*& parameters) {
    parameters = inplace_data<T>(d.arrays, key);
}

// An input array the kernel only reads (offsets, indices, weights).
template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> read_field(const Dicts& d, const char* key, const T*& input) {
    input = input_data<T>(d.arrays, key);
}

// A list of ids that a pass visits in a shuffled order (shuffled in place).
template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> read_field(const Dicts& d, const char* key, FlatList<T>& list) {
    list = flat_list<T>(d.arrays, key);
}

// Packed records that a pass visits in a shuffled order (trust edges).
template <class Record>
std::enable_if_t<std::is_class_v<Record>> read_field(const Dicts& d, const char* key, FlatList<Record>& list) {
    list = record_list<Record>(d.arrays, key);
}

// Packed records whose count another member gives (ratings grouped by user, with their offsets).
template <class Record>
std::enable_if_t<std::is_class_v<Record>> read_field(const Dicts& d, const char* key, Record*& records) {
    records = record_list<Record>(d.arrays, key).records;
}

// A rating grid: `grid` from arrays itself, any other (link_grid, trust_grid) from the sub-dict arrays[key].
inline void read_field(const Dicts& d, const char* key, RatingGrid& grid) {
    if (std::string(key) == "grid") {
        grid = rating_grid(d.arrays);
        return;
    }
    if (!d.arrays.contains(key)) throw py::key_error(std::string("missing rating grid '") + key + "'");
    py::object sub = d.arrays[key];
    if (!py::isinstance<py::dict>(sub))
        throw py::type_error(std::string("'") + key + "' must be a dict {records, offsets, blocks}");
    grid = rating_grid(sub.cast<py::dict>());
}

// A nested argument struct (groups, bpr, als, solver): its own members are read from the same dicts by their
// names; the nested member's name is no key.
template <class Nested>
auto read_field(const Dicts& d, const char*, Nested& nested) -> decltype(read_args(d, nested)) {
    read_args(d, nested);
}

// SOCIALREC_READ((m1)(m2)...(mn)); reads the members a.m1 ... a.mn of the struct `a` from the Dicts `d`, each
// from the key "m", in that order (one statement). The list is a sequence of parenthesised names: _A and _B
// take one name each and leave the other's name behind to take the next one; the name left after the last
// is pasted with _END, which expands to nothing.
#define SOCIALREC_READ(members) \
    do {                        \
        SOCIALREC_READ_JOIN(SOCIALREC_READ_A members, _END) \
    } while (0)
#define SOCIALREC_READ_A(member) ::socialrec::bind::read_field(d, #member, a.member); SOCIALREC_READ_B
#define SOCIALREC_READ_B(member) ::socialrec::bind::read_field(d, #member, a.member); SOCIALREC_READ_A
#define SOCIALREC_READ_A_END
#define SOCIALREC_READ_B_END
#define SOCIALREC_READ_JOIN(x, end) SOCIALREC_READ_PASTE(x, end)
#define SOCIALREC_READ_PASTE(x, end) x##end

// regularization_scaling's per-row penalty weights (issue 15), optional (absent or hyper 'weighted' false:
// "occurrence", no weights): a.weighted, and when it is set the float64 arrays 'user_weight' (n_users) and
// 'item_weight' (n_items) of the rating term.
template <class Args>
void read_penalty_weights(const Dicts& d, Args& a, std::int64_t n_users, std::int64_t n_items) {
    a.weighted = d.hyper.contains("weighted") && scalar<bool>(d.hyper, "weighted");
    if (!a.weighted) return;
    SOCIALREC_READ((user_weight)(item_weight));
    check_size(d.arrays, "user_weight", n_users);
    check_size(d.arrays, "item_weight", n_items);
}

// The read_args of an argument struct whose members are all read by name.
#define SOCIALREC_ARGS(Args, members)                \
    template <class T>                               \
    void read_args(const Dicts& d, Args<T>& a) {     \
        SOCIALREC_READ(members);                     \
    }

// Registers `name(arrays, hyper, settings) -> loss` for an epoch kernel of the table: read_args(d, a) builds
// the kernel's arguments with the GIL (in float64 when arrays[dtype_key] is float64, else float32); the
// kernel then runs without it.
template <template <class> class Args>
void def_epoch(py::module_& m, const char* name, double (*const KernelTable::*f32)(const Args<float>&, const PassSettings&),
               double (*const KernelTable::*f64)(const Args<double>&, const PassSettings&), const char* doc,
               const char* dtype_key = "user_factors") {
    m.def(
        name,
        [=](const py::dict& arrays, const py::dict& hyper, const py::dict& settings) {
            const PassSettings s = pass_settings(settings);
            const Dicts d{arrays, hyper};
            if (is_float64(arrays, dtype_key)) {
                Args<double> a{};
                read_args(d, a);
                return without_gil([&] { return (kernels().*f64)(a, s); });
            }
            Args<float> a{};
            read_args(d, a);
            return without_gil([&] { return (kernels().*f32)(a, s); });
        },
        py::arg("arrays"), py::arg("hyper"), py::arg("settings"), doc);
}

// Registers the epoch kernel `name` (an entry of SOCIALREC_KERNEL_LIST) of argument struct Args<T>.
#define SOCIALREC_EPOCH(name, Args, doc)                                                             \
    namespace {                                                                                       \
    const Registrar name##_registrar{[](py::module_& m) {                                             \
        def_epoch<Args>(m, #name, &KernelTable::name##_f32, &KernelTable::name##_f64, doc);           \
    }};                                                                                               \
    }

}  // namespace socialrec::bind
