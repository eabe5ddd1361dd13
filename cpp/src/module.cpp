// socialrec._core: the C++ kernels behind the Python package. Each bind_*.cpp adds one concern.
#include <cstdlib>
#include <new>
#include <cstring>

#include "bindings.hpp"
#include "socialrec/parallel.hpp"

namespace socialrec::bind {

namespace {
const KernelTable* g_kernels = nullptr;

// Picks the widest compiled variant this CPU supports; SOCIALREC_SIMD=<name> forces one (for tests).
const KernelTable* choose_kernels() {
    const char* forced = std::getenv("SOCIALREC_SIMD");
    auto wanted = [&](const char* name) { return forced == nullptr || std::strcmp(forced, name) == 0; };
#if defined(SOCIALREC_HAVE_NATIVE)
    if (wanted("native")) return &kernel_table_native();
#endif
#if defined(SOCIALREC_HAVE_AVX512)
    if (wanted("avx512") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return &kernel_table_avx512();
#endif
#if defined(SOCIALREC_HAVE_AVX2)
    if (wanted("avx2") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &kernel_table_avx2();
#endif
#if defined(SOCIALREC_HAVE_GENERIC)
    if (wanted("generic")) return &kernel_table_generic();
#endif
    return nullptr;
}
}  // namespace

const KernelTable& kernels() { return *g_kernels; }

}  // namespace socialrec::bind

PYBIND11_MODULE(_core, m) {
    using namespace socialrec;
    m.doc() = "socialrec C++ kernels (see socialrec.reference for their executable specification)";
    bind::g_kernels = bind::choose_kernels();
    if (bind::g_kernels == nullptr) {
        const char* forced = std::getenv("SOCIALREC_SIMD");
        throw std::runtime_error(forced ? std::string("SOCIALREC_SIMD=") + forced +
                                              " names no kernel variant this build and CPU support"
                                        : std::string("this CPU lacks the instruction set socialrec was built for "
                                                      "(x86-64 builds need AVX2 + FMA)"));
    }

    py::dict info;
    info["version"] = SOCIALREC_VERSION;
    info["compiler"] = SOCIALREC_COMPILER;
#if defined(SOCIALREC_OPENMP)
    info["openmp"] = true;
#else
    info["openmp"] = false;
#endif
    info["simd"] = bind::g_kernels->isa;
    py::list variants;
#if defined(SOCIALREC_HAVE_AVX2)
    variants.append("avx2");
#endif
#if defined(SOCIALREC_HAVE_AVX512)
    variants.append("avx512");
#endif
#if defined(SOCIALREC_HAVE_NATIVE)
    variants.append("native");
#endif
#if defined(SOCIALREC_HAVE_GENERIC)
    variants.append("generic");
#endif
    info["simd_variants"] = variants;
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
