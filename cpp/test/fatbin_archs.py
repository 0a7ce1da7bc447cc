#!/usr/bin/env python3
"""Lists the GPU code in a shared library's .nv_fatbin section (sm_XX machine code, compute_XX
PTX) without the CUDA binary utilities, and checks it against --expect.

  fatbin_archs.py LIBRARY [--expect sm_80,sm_90,compute_90]
"""
import struct
import sys


def section(data, name):
    """The bytes of ELF64 section `name`."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise SystemExit("not an ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = headers[shstrndx]
    for h in headers:
        start = strtab[4] + h[0]
        if data[start:data.index(b"\0", start)].decode() == name:
            return data[h[4]:h[4] + h[5]]
    return b""


def entries(fatbin):
    """(kind, arch) of every entry: kind 1 is PTX, 2 is machine code (ELF)."""
    found = []
    pos = 0
    while pos + 16 <= len(fatbin):
        magic, _version, header_size, size = struct.unpack_from("<IHHQ", fatbin, pos)
        if magic != 0xBA55ED50:
            break
        entry, end = pos + header_size, pos + header_size + size
        while entry < end:
            kind, _, entry_header, payload = struct.unpack_from("<HHIQ", fatbin, entry)
            arch, = struct.unpack_from("<I", fatbin, entry + 28)
            found.append(("compute_%d" if kind == 1 else "sm_%d") % arch)
            entry += entry_header + payload
        pos = end
    return found


def main():
    data = open(sys.argv[1], "rb").read()
    found = sorted(set(entries(section(data, ".nv_fatbin"))))
    print("GPU code in %s: %s" % (sys.argv[1], ", ".join(found) or "none"))
    if len(sys.argv) > 3 and sys.argv[2] == "--expect":
        missing = [a for a in sys.argv[3].split(",") if a not in found]
        if missing:
            raise SystemExit("missing: " + ", ".join(missing))


if __name__ == "__main__":
    main()
