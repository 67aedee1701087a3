#!/usr/bin/env python3
"""A platform-gate manifest reader written from docs/manifest.md alone.

Usage: manifest_reader.py FILE  -- prints one JSON object per manifest (the keys of
`platform-gate show --json`), exits 2 with a message on stderr if a manifest is invalid or absent.
"""
import json, struct, sys, zlib

MAGIC = b"\xffplatform-gate:"

class Body:
    def __init__(self, data): self.data, self.at = data, 0
    def take(self, n):
        if self.at + n > len(self.data): raise ValueError("body ends early")
        self.at += n
        return self.data[self.at - n:self.at]
    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack("<H", self.take(2))[0]
    def str(self): return self.take(self.u16()).decode("utf-8")
    def list(self, item): return [item() for _ in range(self.u16())]

def parse(data, offset):
    version = data[offset + 15]
    if version != 1: raise ValueError(f"format {version}")
    (length,) = struct.unpack("<I", data[offset + 16:offset + 20])
    if length > 1 << 20: raise ValueError("body over 1 MiB")
    end = offset + 20 + length
    if end + 4 > len(data): raise ValueError("cut short")
    if zlib.crc32(data[offset + 15:end]) != struct.unpack("<I", data[end:end + 4])[0]: raise ValueError("checksum")
    b = Body(data[offset + 20:end])
    m = {"format": version, "program": b.str(), "variable": b.str()}
    m["crate_version"] = b.str() or None
    m["gate_version"] = b.str()
    m["platform"] = dict(zip(["arch", "arch_rust", "os", "os_rust"], [b.str() for _ in range(4)]))
    check, allow, exit_code = b.u8(), b.u8(), b.u8()
    m["policy"] = {"check": ["arch", "platform"][check], "allow": ["stable", "experimental"][allow], "exit_code": exit_code}
    name, supports = b.str(), b.list(b.str)
    m["packager"] = {"name": name, "supports": supports} if name else None
    def row():
        r = {"arch": b.str(), "os": b.str(), "status": ["unstable", "experimental", "stable"][b.u8()]}
        r["maintainers"] = b.list(b.str)
        r["note"] = b.str() if b.u8() == 1 else None
        return r
    m["matrix"] = b.list(row)
    level, _flags = b.u8(), b.u8()
    m["cpu"] = {"level": level, "checked_before_start": b.list(b.str), "checked_in_main": b.list(b.str)}
    if b.at != len(b.data): raise ValueError("body ends late")
    return m

def main(path):
    data = open(path, "rb").read()
    offsets, at = [], data.find(MAGIC)
    while at != -1:
        offsets.append(at)
        at = data.find(MAGIC, at + 1)
    if not offsets: sys.exit(f"{path}: no manifest")
    for offset in offsets:
        try: print(json.dumps(parse(data, offset), sort_keys=True))
        except (ValueError, IndexError, UnicodeDecodeError, struct.error) as error:
            print(f"{path}: manifest at byte {offset}: {error}", file=sys.stderr); sys.exit(2)

if __name__ == "__main__":
    main(sys.argv[1])
