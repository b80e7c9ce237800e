"""What kind of executable a file is, read from its ELF headers (no `file` or `ldd` needed): whether it
is fully static, which architecture it is for, and whether it runs natively here or under qemu-user."""
import platform
import struct

PT_INTERP = 3
# e_machine -> Debian's architecture name (ELFCLASS/endianness tell armhf from arm64, ppc64el from ppc64).
MACHINES = {62: "amd64", 183: "arm64", 22: "s390x", 40: "armhf", 21: "ppc64el", 3: "i386"}
HOST = {"x86_64": "amd64", "aarch64": "arm64", "s390x": "s390x", "armv7l": "armhf", "ppc64le": "ppc64el"}.get(
    platform.machine(), platform.machine())


def _header(path):
    """(byte order for struct, ELF class 1 or 2, the first 64 bytes); None when not ELF."""
    with open(path, "rb") as f:
        header = f.read(64)
    if header[:4] != b"\x7fELF":
        return None
    return ("<" if header[5] == 1 else ">"), header[4], header


def architecture(path):
    """Debian's name of the architecture the ELF file is for ("amd64", "arm64", "s390x", ...)."""
    parsed = _header(path)
    if parsed is None:
        return None
    order, _, header = parsed
    machine, = struct.unpack_from(order + "H", header, 18)
    return MACHINES.get(machine, f"e_machine {machine}")


def is_emulated(path):
    """True when the executable is for another architecture: binfmt_misc runs it under qemu-user."""
    return architecture(path) != HOST


def is_static_executable(path):
    """True for an ELF executable (32 or 64 bit, either byte order) without a program interpreter."""
    parsed = _header(path)
    if parsed is None:
        return False
    order, elf_class, header = parsed
    if elf_class == 2:
        phoff, = struct.unpack_from(order + "Q", header, 32)
        phentsize, phnum = struct.unpack_from(order + "HH", header, 54)
    else:
        phoff, = struct.unpack_from(order + "I", header, 28)
        phentsize, phnum = struct.unpack_from(order + "HH", header, 42)
    with open(path, "rb") as f:
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    types = [struct.unpack_from(order + "I", table, i * phentsize)[0] for i in range(phnum)]
    return PT_INTERP not in types
