// One instruction-set variant of the hot kernels (see CMakeLists.txt and socialrec/kernel_table.hpp).
#include "socialrec/kernel_table.hpp"
#include "socialrec/topk.hpp"

// The kernels themselves are instantiated in cpp/src/kernels/*.cpp (one file per model, same variant).
SOCIALREC_KERNELS_BEGIN
#define SOCIALREC_EXTERN_ENTRY(name, Args)                                       \
    extern template double name<float>(const Args<float>&, const PassSettings&); \
    extern template double name<double>(const Args<double>&, const PassSettings&);
SOCIALREC_KERNEL_LIST(SOCIALREC_EXTERN_ENTRY)
#undef SOCIALREC_EXTERN_ENTRY
extern template void topk_select<float>(const TopKArgs<float>&);
extern template void topk_select<double>(const TopKArgs<double>&);
SOCIALREC_KERNELS_END

namespace socialrec {

const KernelTable& SOCIALREC_CAT(kernel_table_, SOCIALREC_ISA)() {
    static const KernelTable table{
        SOCIALREC_STR(SOCIALREC_ISA),
#define SOCIALREC_DEFINE_ENTRY(name, Args) &name<float>, &name<double>,
        SOCIALREC_KERNEL_LIST(SOCIALREC_DEFINE_ENTRY)
#undef SOCIALREC_DEFINE_ENTRY
        &topk_select<float>,
        &topk_select<double>,
    };
    return table;
}

}  // namespace socialrec
