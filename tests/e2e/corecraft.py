#!/usr/bin/env python3
"""Edit a real ELF core the way an attacker would craft one, for the hostile
input tests (tests/e2e/run-pack-hostile-*.sh).

    corecraft.py IN OUT [--owner UID:GID] [--pid PID] [--rename OLD=NEW]...
                        [--rename-tail OLD=NEW]... [--huge-load]

--owner      sets NT_PRPSINFO's pr_uid and pr_gid (the crashed process's owner)
--pid        sets NT_PRPSINFO's pr_pid (an unsigned 32-bit value)
--rename     gives every NT_FILE mapping named OLD the name NEW
--rename-tail  the same for the mappings of OLD past its start (file offset
             not 0): NEW then has no first page dumped in the core
--huge-load  gives the lowest PT_LOAD segment a p_filesz (and p_memsz, where
             the address space has room) of 0xc000_0000_0000_0000: more
             than any file can hold

The notes are rebuilt and appended at the end of the copy, and the PT_NOTE
program header is pointed at them; the old notes stay where they were,
unreferenced.  The layouts are the kernel's (include/uapi/linux/elfcore.h,
fs/binfmt_elf.c): 64-bit little-endian cores (x86-64, aarch64) only.
"""
import argparse
import shutil
import struct
import sys

NT_PRPSINFO = 3
NT_FILE = 0x46494C45
PT_LOAD, PT_NOTE = 1, 4


def align4(n):
    return (n + 3) & ~3


def read_notes(buf):
    notes, off = [], 0
    while off + 12 <= len(buf):
        namesz, descsz, ntype = struct.unpack_from("<III", buf, off)
        name = buf[off + 12:off + 12 + namesz]
        doff = off + 12 + align4(namesz)
        notes.append([name, ntype, bytearray(buf[doff:doff + descsz])])
        off = doff + align4(descsz)
    return notes


def write_notes(notes):
    out = bytearray()
    for name, ntype, desc in notes:
        out += struct.pack("<III", len(name), len(desc), ntype)
        out += name + b"\0" * (align4(len(name)) - len(name))
        out += desc + b"\0" * (align4(len(desc)) - len(desc))
    return out


def set_pid(desc, pid):
    at = len(desc) - (16 + 16 + 80)
    struct.pack_into("<I", desc, at, pid)


def set_owner(desc, uid, gid):
    # ..., pr_uid, pr_gid, pr_pid, pr_ppid, pr_pgrp, pr_sid, fname[16], psargs[80]
    at = len(desc) - (16 + 16 + 80) - 8
    struct.pack_into("<II", desc, at, uid, gid)


def rename_files(desc, renames, tails):
    count, page = struct.unpack_from("<QQ", desc, 0)
    table = 16 + count * 24
    names = bytes(desc[table:]).split(b"\0")[:count]
    done = set()
    for i, n in enumerate(names):
        pgoff, = struct.unpack_from("<Q", desc, 16 + i * 24 + 16)
        if n in renames:
            names[i] = renames[n]
            done.add(n)
        elif n in tails and pgoff != 0:
            names[i] = tails[n]
            done.add(n)
    missing = (set(renames) | set(tails)) - done
    if missing:
        sys.exit("corecraft: not in NT_FILE: %s" % b", ".join(sorted(missing)).decode(errors="replace"))
    return bytearray(desc[:table]) + b"".join(n + b"\0" for n in names)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("core")
    ap.add_argument("out")
    ap.add_argument("--owner")
    ap.add_argument("--pid", type=lambda v: int(v, 0))
    ap.add_argument("--rename", action="append", default=[])
    ap.add_argument("--rename-tail", action="append", default=[])
    ap.add_argument("--huge-load", action="store_true")
    a = ap.parse_args()

    shutil.copyfile(a.core, a.out)
    with open(a.out, "r+b") as f:
        ehdr = f.read(64)
        if ehdr[:4] != b"\x7fELF" or ehdr[4] != 2 or ehdr[5] != 1:
            sys.exit("corecraft: not a 64-bit little-endian ELF file")
        e_phoff, = struct.unpack_from("<Q", ehdr, 32)
        e_phentsize, e_phnum = struct.unpack_from("<HH", ehdr, 54)
        if e_phnum == 0xFFFF:
            e_shoff, = struct.unpack_from("<Q", ehdr, 40)
            f.seek(e_shoff + 44)
            e_phnum, = struct.unpack("<I", f.read(4))
        f.seek(e_phoff)
        table = bytearray(f.read(e_phnum * e_phentsize))
        note_i = low_load = None
        for i in range(e_phnum):
            p_type, = struct.unpack_from("<I", table, i * e_phentsize)
            p_vaddr, = struct.unpack_from("<Q", table, i * e_phentsize + 16)
            if p_type == PT_NOTE and note_i is None:
                note_i = i
            if p_type == PT_LOAD and (low_load is None or p_vaddr < low_vaddr):
                low_load, low_vaddr = i, p_vaddr
        if note_i is None:
            sys.exit("corecraft: no PT_NOTE")

        if a.owner or a.rename or a.rename_tail or a.pid is not None:
            at = note_i * e_phentsize
            p_offset, = struct.unpack_from("<Q", table, at + 8)
            p_filesz, = struct.unpack_from("<Q", table, at + 32)
            f.seek(p_offset)
            notes = read_notes(f.read(p_filesz))
            def pairs(specs):
                out = {}
                for r in specs:
                    old, new = r.split("=", 1)
                    out[old.encode("utf-8", "surrogateescape")] = new.encode("utf-8", "surrogateescape")
                return out
            renames, tails = pairs(a.rename), pairs(a.rename_tail)
            for n in notes:
                if n[0].rstrip(b"\0") != b"CORE":
                    continue
                if n[1] == NT_PRPSINFO and a.owner:
                    uid, gid = (int(x) for x in a.owner.split(":"))
                    set_owner(n[2], uid, gid)
                if n[1] == NT_PRPSINFO and a.pid is not None:
                    set_pid(n[2], a.pid)
                if n[1] == NT_FILE and (renames or tails):
                    n[2] = rename_files(n[2], renames, tails)
            blob = write_notes(notes)
            f.seek(0, 2)
            end = f.tell()
            new_off = (end + 7) & ~7
            f.write(b"\0" * (new_off - end) + blob)
            struct.pack_into("<Q", table, at + 8, new_off)
            struct.pack_into("<QQ", table, at + 32, len(blob), len(blob))

        if a.huge_load:
            if low_load is None:
                sys.exit("corecraft: no PT_LOAD")
            at = low_load * e_phentsize
            huge = 0xC000000000000000
            struct.pack_into("<Q", table, at + 32, huge)
            if low_vaddr + huge < 1 << 64:
                struct.pack_into("<Q", table, at + 40, huge)

        f.seek(e_phoff)
        f.write(table)


if __name__ == "__main__":
    main()
