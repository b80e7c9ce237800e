"""What kind of executable a file is, read from its ELF headers (no `file` or `ldd` needed)."""
import struct

PT_INTERP = 3


def is_static_executable(path):
    """True for an x86-64 ELF executable without a program interpreter, i.e. fully static."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", header, 32)
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    types = [struct.unpack_from("<I", table, i * phentsize)[0] for i in range(phnum)]
    return PT_INTERP not in types
