/* For the x86_64-pc-windows-gnu target under wine (run.sh): Rust's std imports ProcessPrng from
 * bcryptprimitives.dll, which Windows 10 has and Debian's wine 8 lacks, so no Rust program starts
 * there. run.sh builds this as that DLL in its wine prefix: ProcessPrng on top of
 * SystemFunction036 (RtlGenRandom), which wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
