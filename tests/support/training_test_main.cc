// main() of the test binaries that train with LibTorch in process: the
// tensor heap set as conceptwatchd and tinygpt set it (crosscoder/tensor_heap.h),
// so what these tests time and train is what the programs do.
#include <gtest/gtest.h>

#include "crosscoder/tensor_heap.h"

int main(int argc, char** argv) {
  cw::keep_freed_tensor_memory();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
