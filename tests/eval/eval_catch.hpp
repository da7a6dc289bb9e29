// Catch2 after libtorch: c10's logging header defines a CHECK macro (a fatal log) that would
// otherwise shadow Catch's CHECK. Include this after every header that pulls in torch.
#pragma once

#include <torch/types.h>
#undef CHECK
#include <catch2/catch.hpp>
