/* capture.h: captured images moved to source/image.h (the file source); this name stays for the
 * fuzzers and tests/unit/test_capture.c until they include source/image.h. */
#ifndef PC_CAPTURE_H
#define PC_CAPTURE_H

#include "source/image.h"

#endif
