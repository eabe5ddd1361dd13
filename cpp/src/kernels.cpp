// One instruction-set variant of the hot kernels (see CMakeLists.txt and socialrec/kernel_table.hpp).
#include "socialrec/kernel_table.hpp"

namespace socialrec {

const KernelTable& SOCIALREC_CAT(kernel_table_, SOCIALREC_ISA)() {
    static const KernelTable table{
        SOCIALREC_STR(SOCIALREC_ISA),
#define SOCIALREC_DEFINE_ENTRY(name, Args) &name<float>, &name<double>,
        SOCIALREC_KERNEL_LIST(SOCIALREC_DEFINE_ENTRY)
#undef SOCIALREC_DEFINE_ENTRY
    };
    return table;
}

}  // namespace socialrec
