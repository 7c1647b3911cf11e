/* fuzz_common.h - shared by the container fuzz targets. */
#ifndef VMP_FUZZ_COMMON_H
#define VMP_FUZZ_COMMON_H

#include <vmpack/vmpack.h>

/* Reads every chunk (bounded), section, boot blob and signature of an
 * opened container, runs the section check and a full verify. */
void fuzz_read_all(vmp_reader *r);

#endif
