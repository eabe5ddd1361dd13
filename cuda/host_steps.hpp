// socialrec._cuda.host_*: host replays of the device step math (cuda/host_steps.cpp). Host compiler only.
#pragma once
#include <pybind11/pybind11.h>

namespace socialrec::cuda {

void bind_host_steps(pybind11::module_& m);

}  // namespace socialrec::cuda
