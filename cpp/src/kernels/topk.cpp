// Instantiates the top-n scan (socialrec/topk.hpp) for this instruction-set variant.
#include "socialrec/kernel_table.hpp"
#include "socialrec/topk.hpp"

SOCIALREC_KERNELS_BEGIN
template void topk_select<float>(const TopKArgs<float>&);
template void topk_select<double>(const TopKArgs<double>&);
SOCIALREC_KERNELS_END
