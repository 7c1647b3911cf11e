/* error.c - names of the status codes of vmpack/error.h. */
#include <vmpack/error.h>

const char *vmp_strerror(int status)
{
    switch (status) {
    case VMP_OK: return "success";
    case VMP_ERR_NOMEM: return "out of memory";
    case VMP_ERR_IO: return "input/output error";
    case VMP_ERR_INVALID: return "invalid argument";
    case VMP_ERR_NOT_FOUND: return "not found";
    case VMP_ERR_FORMAT: return "malformed container";
    case VMP_ERR_DIGEST: return "digest mismatch";
    case VMP_ERR_VERSION: return "unsupported format version";
    case VMP_ERR_UNSUPPORTED: return "unsupported";
    case VMP_ERR_SIGNATURE: return "bad signature";
    case VMP_ERR_NO_SIGNATURE: return "no signature by this key";
    case VMP_ERR_KEY: return "malformed key";
    case VMP_ERR_LIMIT: return "limit exceeded";
    case VMP_ERR_STATE: return "call out of order";
    case VMP_ERR_CALLBACK: return "callback failed";
    case VMP_ERR_TRUNCATED: return "truncated";
    case VMP_ERR_DECOMPRESS: return "decompression failed";
    }
    return "unknown error";
}
