"""Writes a minimal x86-64 ELF core (tests/fuzz/corpus-core/min.core), the core fuzzer's seed:
NT_PRSTATUS, NT_PRPSINFO, NT_AUXV (AT_PHDR in the executable's mapping) and NT_FILE notes, a
read-only segment of the executable's first page (its ELF header) and an anonymous RW segment."""
import struct
import sys


def note(name, ntype, desc):
    n = name + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


EXE, ANON = 0x400000, 0x7f0000000000
prstatus = bytearray(336)
struct.pack_into("<H", prstatus, 12, 6)        # pr_cursig: SIGABRT
struct.pack_into("<I", prstatus, 32, 4242)     # pr_pid
prpsinfo = bytearray(136)
struct.pack_into("<I", prpsinfo, 24, 4242)
prpsinfo[40:47] = b"python3"
auxv = struct.pack("<QQQQ", 3, EXE + 64, 0, 0)  # AT_PHDR, AT_NULL
path = b"/usr/bin/python3.11"
ntfile = struct.pack("<QQ", 1, 4096) + struct.pack("<QQQ", EXE, EXE + 0x2000, 0) + path + b"\0"
notes = (note(b"CORE", 1, bytes(prstatus)) + note(b"CORE", 3, bytes(prpsinfo)) +
         note(b"CORE", 6, auxv) + note(b"CORE", 0x46494C45, ntfile))
phoff, nph = 64, 3
data_at = phoff + nph * 56
exe_page = b"\x7fELF\x02\x01\x01" + bytes(64 - 7)
anon = bytes(range(256)) * 2
ph = struct.pack("<IIQQQQQQ", 4, 4, data_at, 0, 0, len(notes), 0, 1)
ph += struct.pack("<IIQQQQQQ", 1, 4, data_at + len(notes), EXE, 0, len(exe_page), 0x2000, 1)
ph += struct.pack("<IIQQQQQQ", 1, 6, data_at + len(notes) + len(exe_page), ANON, 0, len(anon), len(anon), 1)
eh = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, 0, 0, 64, 56, nph, 64, 0, 0)
sys.stdout.buffer.write(eh + ph + notes + exe_page + anon)
