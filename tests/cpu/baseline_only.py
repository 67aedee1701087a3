#!/usr/bin/env python3
"""The CPU refusal's machine code uses only its architecture's baseline instructions.

Usage: baseline_only.py OBJDUMP BINARY

Disassembles BINARY (with symbols: not stripped) and walks the code the gate runs on a CPU that may
lack what the build assumed, from its entry points:
- `platform_gate::cpu::early::check_before_start`, the check before std starts;
- `platform_gate::gate::Gate::refuse_cpu_in_main`, the check in `main`;
- `main`'s own code (`<crate>::main`) up to its first call outside platform-gate, which is where the
  gate's inlined test sits.
It follows every direct call and jump into other functions of the binary, and calls through the
GOT (x86_64 builds make them, even to their own functions). It stops at the C library (`@plt`, or
the C functions the refusal calls, which a static binary contains) and at the
panic machinery (a panic there would be a bug, not a path). Every instruction reached must be one
every CPU of the architecture runs: an x86-64 (or i686) baseline CPU, or an ARMv8.0-A one. Static,
so it covers branches no emulated run happens to take.

Prints what it walked, and each instruction above the baseline; exits 1 if there is one.
"""

import re
import subprocess
import sys

# x86: VEX and EVEX encodings are `v`-prefixed in objdump's syntax (and use ymm/zmm/mask/APX
# registers); the rest are the legacy-encoded instructions of SSE3 and later, BMI, and the like.
X86_ABOVE_BASELINE = re.compile(
    r"^(v(?!err|erw)\w+"
    r"|andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx"
    r"|popcnt|lzcnt|tzcnt|movbe|adcx|adox|crc32"
    r"|pshufb|palignr|pabs[bwd]|phadd\w*|phsub\w*|pmaddubsw|pmulhrsw|psign[bwd]"
    r"|ptest|pblend\w*|blendv?p[sd]|dpp[sd]|extractps|insertps|movntdqa|mpsadbw|packusdw"
    r"|pcmpeqq|pcmpgtq|pextr[bdq]|pinsr[bdq]|pmax(s[bd]|u[wd])|pmin(s[bd]|u[wd])|pmov[sz]x\w+"
    r"|pmuldq|pmulld|phminposuw|round[ps][sd]|pcmp[ei]str[im]"
    r"|addsubp[sd]|hadd[ps][sd]|hsub[ps][sd]|lddqu|movddup|movs[hl]dup|fisttp\w*"
    r"|aes\w+|pclmul\w+|sha1\w+|sha256\w+|gf2p8\w+|rdrand|rdseed"
    r"|xgetbv|xsave\w*|xrstor\w*|cmpxchg16b|prefetchw|lahf|sahf"
    r"|xbegin|xend|xabort|xtest|push2\w*|pop2\w*|ccmp\w*|ctest\w*|cfcmov\w*)\b"
)
X86_REGISTERS_ABOVE_BASELINE = re.compile(r"%?\b([yz]mm\d+|k[0-7]|r(1[6-9]|2\d|3[01])[dwb]?)\b|\{")
# XGETBV is XSAVE's; `detect::xcr0` (never inlined) runs it only where CPUID says the OS enabled it.
X86_ALLOWED_IN = {"xgetbv": ("core::core_arch::x86::xsave::_xgetbv", "platform_gate::cpu::detect::xcr0")}

# aarch64: LSE atomics, LSE128, MOPS, CRC32, RCPC loads, CSSC's scalar forms, SVE and SME (z and p
# registers), dot products and RDM. Hints that older CPUs run as NOPs (PAC's `paciasp`, BTI) pass.
AARCH64_ABOVE_BASELINE = re.compile(
    r"^(cas\w*|ld(add|clr|eor|set|smax|smin|umax|umin)\w*|st(add|clr|eor|set|smax|smin|umax|umin)\w*"
    r"|swp\w*|ldclrp\w*|ldsetp\w*|swpp\w*|cpy\w*|set[pme]\w*|crc32\w*|ldapr\w*|ldapur\w*|stlur\w*"
    r"|[su]dot|sqrdml[as]h|rcwc\w*)\b"
)
AARCH64_SCALAR_CSSC = re.compile(r"^(abs|cnt|ctz|[su]max|[su]min)\s+[wx]\d")
AARCH64_REGISTERS_ABOVE_BASELINE = re.compile(r"\b(z\d+|p\d+)\.|\bza\b")

ENTRY_FUNCTIONS = (
    "platform_gate::cpu::early::check_before_start",
    "platform_gate::gate::Gate::refuse_cpu_in_main",
)
# The C library's functions the refusal calls, which a static binary links in (musl's own code).
C_LIBRARY = {"write", "exit", "_exit", "getauxval", "memset", "memcpy", "strlen", "_write", "signal", "poll", "sigaction", "__sigaction", "__libc_sigaction", "ppoll", "__syscall_cp", "__poll", "bsd_signal"}
# Runs only once the CPU check has passed: the platform check, which may use what the build assumed.
AFTER_THE_CHECK = ("platform_gate::gate::Gate::enforce_outside_support",)
PANICS = re.compile(r"^(core::panicking::|core::slice::index::|core::option::\w*fail|core::result::unwrap_failed)")


def plain(name):
    """`<platform_gate::gate::Gate>::f` (as some compilers' symbols demangle) as `platform_gate::gate::Gate::f`."""
    return re.sub(r"^<([^<>]+)>::", r"\1::", name) if name else name


def global_offset_table(objdump, binary):
    """{GOT slot address: the function or C symbol it holds}, from the dynamic relocations: calls
    through the GOT (`call *X(%rip)`, as x86_64 builds make) are followed to their function."""
    text = subprocess.run([objdump, "-R", binary], capture_output=True, text=True).stdout
    slots = {}
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]+)\s+R_\w+_(RELATIVE|GLOB_DAT|JUMP_SLOT)\s+(\S+)", line)
        if not m:
            continue
        target = m.group(3)
        absolute = re.match(r"\*ABS\*\+0x([0-9a-f]+)", target)
        slots[int(m.group(1), 16)] = int(absolute.group(1), 16) if absolute else target.split("@")[0]
    return slots


def disassemble(objdump, binary):
    """{function name: [(address, mnemonic, operands, call or jump target name or None)]}"""
    text = subprocess.run(
        [objdump, "-d", "-C", "--no-show-raw-insn", binary], check=True, capture_output=True, text=True
    ).stdout
    got = global_offset_table(objdump, binary)
    starts = {}
    for m in re.finditer(r"^([0-9a-f]+) <(.+)>:$", text, re.M):
        starts[int(m.group(1), 16)] = plain(m.group(2))
    functions, current = {}, None
    header = re.compile(r"^[0-9a-f]+ <(.+)>:$")
    line_re = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
    for line in text.splitlines():
        m = header.match(line)
        if m:
            current = plain(m.group(1))
            functions.setdefault(current, [])
            registers = {}  # register: the GOT slot last loaded into it
            continue
        m = line_re.match(line)
        if m and current is not None:
            mnemonic, operands = m.group(2), m.group(3)
            symbol = re.search(r"<.*>", operands)
            if mnemonic in ("rep", "repz", "repnz", "lock", "data16", "notrack", "bnd") and operands:
                mnemonic, _, operands = operands.partition(" ")
            target = re.match(r"<(.+?)(\+0x[0-9a-f]+)?>$", symbol.group(0)) if symbol else None
            target = plain(target.group(1)) if target else None
            if symbol:
                operands = operands[: symbol.start()].rstrip()  # the symbol's name is no operand
            # `call *X(%rip)` through a GOT slot; or a function's address in a register (`lea` of it,
            # or `mov` of its GOT slot), then `call *%reg`.
            def held(slot_address):
                value = got.get(int(slot_address, 16))
                return starts.get(value, f"0x{value:x}") if isinstance(value, int) else value

            register = re.match(r".*,(%\w+)$", operands.split("#")[0].strip())
            loaded = re.match(r"0x[0-9a-f]+\(%rip\),(%\w+)\s+# ([0-9a-f]+)", operands)
            if mnemonic.startswith("mov") and loaded and held(loaded.group(2)):
                registers[loaded.group(1)] = held(loaded.group(2))
            elif mnemonic.startswith("lea") and register and target:
                registers[register.group(1)] = target
            elif register:
                registers.pop(register.group(1), None)
            slot = re.search(r"\*0x[0-9a-f]+\(%rip\)\s+# ([0-9a-f]+)", operands)
            via_register = re.fullmatch(r"\*(%\w+)", operands)
            if mnemonic.startswith("call") and slot and held(slot.group(1)):
                target = held(slot.group(1))
            elif mnemonic.startswith("call") and via_register:
                target = registers.get(via_register.group(1))
            functions[current].append((m.group(1), mnemonic, operands, target))
    return functions


def main():
    objdump, binary = sys.argv[1], sys.argv[2]
    functions = disassemble(objdump, binary)
    aarch64 = "aarch64" in objdump
    mains = [name for name in functions if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*::main", name)]
    entries = [name for name in ENTRY_FUNCTIONS if name in functions]
    if not entries and not mains:
        print(f"baseline-only: {binary}: none of the gate's functions found (stripped?)")
        return 1

    walked, problems, queue = set(), [], entries + mains
    while queue:
        name = queue.pop()
        if name in walked or name not in functions:
            continue
        walked.add(name)
        in_main = name in mains
        for address, mnemonic, operands, target in functions[name]:
            if aarch64:
                above = (
                    AARCH64_ABOVE_BASELINE.match(mnemonic)
                    or AARCH64_SCALAR_CSSC.match(f"{mnemonic} {operands}")
                    or AARCH64_REGISTERS_ABOVE_BASELINE.search(operands)
                )
            else:
                above = X86_ABOVE_BASELINE.match(mnemonic) or X86_REGISTERS_ABOVE_BASELINE.search(operands)
                if above and any(place in name for place in X86_ALLOWED_IN.get(mnemonic, ())):
                    above = None
            if above:
                # The target, for calls through the GOT: not in `operands`, where a name's `{` would
                # read as an AVX-512 mask.
                shown = f" <{target}>" if target and "*" in operands else ""
                problems.append(f"  {name} at {address}: {mnemonic} {operands}{shown}")
            # An indirect call whose target `disassemble` could not resolve (through the GOT, or a
            # register loaded from it or with `lea`) goes where this check cannot follow.
            indirect = (mnemonic.startswith("call") and "*" in operands and target is None) or mnemonic == "blr"
            if indirect:
                problems.append(f"  {name} at {address}: {mnemonic} {operands} (an indirect call)")
            calls = mnemonic.startswith(("call", "bl", "b", "j", "tbz", "tbnz", "cbz", "cbnz"))
            if not calls or target is None or target == name:
                continue
            if target.endswith("@plt") or target in C_LIBRARY or target in AFTER_THE_CHECK or PANICS.match(target):
                continue
            if in_main and not target.startswith("platform_gate::"):
                break  # the program's own code starts here
            queue.append(target)

    print(f"baseline-only: {binary}: walked {len(walked)} functions from {', '.join(entries + mains)}")
    if problems:
        print("baseline-only: instructions above the baseline on the refusal path:")
        print("\n".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
