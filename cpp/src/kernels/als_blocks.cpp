// Instantiates the blocked ALS kernels (socialrec.distributed) for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(als_block_solve, ALSBlockArgs)
SOCIALREC_INSTANTIATE_KERNEL(als_gramian_partials, ALSGramianArgs)
