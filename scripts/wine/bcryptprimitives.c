/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks. Go's
 * runtime (1.22 and later) takes its random bytes from ProcessPrng there;
 * this one answers from RtlGenRandom (advapi32's SystemFunction036). For
 * test prefixes only: scripts/wine/prefix.sh builds it and puts it in the
 * prefix's system32. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    return TRUE;
}
