/*
 * Stand-in for Windows' bcryptprimitives.dll, for Wine 8 only (scripts/test-windows.sh).
 *
 * Rust's std (>= 1.78) imports ProcessPrng from bcryptprimitives.dll to seed its hash maps;
 * Wine 8 does not ship that DLL, so every Rust program exits with status 53 before main.
 * This one function fills the buffer from RtlGenRandom (advapi32's SystemFunction036),
 * which Wine does provide. Real Windows 10+ has the genuine DLL; this file is never shipped.
 */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(buf, chunk))
            return FALSE;
        buf += chunk;
        len -= chunk;
    }
    return TRUE;
}
