// Fuzzes image sniffing and header reading (libpng, libjpeg-turbo, giflib, libwebp: the sniffed type's only).
#include <cstddef>
#include <cstdint>
#include <string>

#include "image_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto info = kestrel::crawler::read_image_info(data, size, &error);
  if (info && (info->width == 0 || info->height == 0)) __builtin_trap();  // zero sizes are rejected
  if (!info && error.empty()) __builtin_trap();                            // every refusal says why
  return 0;
}
