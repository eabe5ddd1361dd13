// socialrec._core: the C++ kernels behind the Python package. Each bind_*.cpp adds one concern.
#include <cstdlib>
#include <new>
#include <cstring>

#include "bindings.hpp"
#include "simd_dispatch.hpp"
#include "socialrec/parallel.hpp"

namespace socialrec::bind {

namespace {
const KernelTable* g_kernels = nullptr;
}  // namespace

const KernelTable& kernels() { return *g_kernels; }

}  // namespace socialrec::bind

PYBIND11_MODULE(_core, m) {
    using namespace socialrec;
    m.doc() = "socialrec C++ kernels (see socialrec.reference for their executable specification)";
    // The widest kernel variant this CPU runs, or the one SOCIALREC_SIMD names (simd_dispatch.cpp).
    const bind::SimdChoice simd = bind::choose_simd(std::getenv("SOCIALREC_SIMD"));
    if (simd.table == nullptr) throw std::runtime_error(simd.error);
    bind::g_kernels = simd.table;

    py::dict info;
    info["version"] = SOCIALREC_VERSION;
    info["compiler"] = SOCIALREC_COMPILER;
#if defined(SOCIALREC_OPENMP)
    info["openmp"] = true;
#else
    info["openmp"] = false;
#endif
    info["simd"] = bind::g_kernels->isa;
    auto names = [](const std::vector<std::string>& v) {
        py::list out;
        for (const auto& name : v) out.append(name);
        return out;
    };
    info["simd_variants"] = names(simd.compiled);    // compiled into this build, narrowest first
    info["simd_supported"] = names(simd.supported);  // those this CPU can run (SOCIALREC_SIMD may name one)
    m.attr("build_info") = info;
    m.def("max_threads", &max_threads, "Number of threads OpenMP would use (1 without OpenMP).");
    m.attr("MAX_THREADS") = kMaxThreads;  // the cap of every parallel region (socialrec/parallel.hpp)
    m.attr("RATING_RECORD_SIZE") = sizeof(RatingRecord);
    // Test hook (tests/test_faults.py): allocates and frees `bytes` bytes with the throwing operator new, so a
    // test can check that std::bad_alloc reaches Python as MemoryError (pybind11's translation) and not abort.
    // A direct call of ::operator new, not a new-expression, so the compiler may not elide it.
    m.def(
        "_allocate",
        [](std::int64_t bytes) {
            if (bytes < 0) throw py::value_error("bytes must be >= 0");
            void* p = ::operator new(static_cast<std::size_t>(bytes));
            ::operator delete(p);
            return bytes;
        },
        py::arg("bytes"), "Test hook: allocate and free `bytes` bytes in C++ (std::bad_alloc -> MemoryError).");

    for (auto fn : bind::registered_bindings()) fn(m);
}
