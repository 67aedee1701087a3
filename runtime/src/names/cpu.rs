// CPU features a build can assume above its architecture's baseline: the `target_feature` name, where
// the hardware reports it, and its x86-64 level. One row per feature, in one place (`cpu_features!`):
// the runtime's tables, its `cfg!` flags, the early check's `cfg`, and the macro's `cfg!`s in the
// user's crate all come from these rows. Every feature rustc lists for x86 and aarch64 is a row here
// or in `UNCHECKED`, and a test compares both with `rustc --print target-features`.

/// Which table: x86 rows serve 32- and 64-bit x86 alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    X86,
    Aarch64,
}

impl Family {
    /// The family's rows: at most 128, so that a set of them is two `u64`s.
    pub(crate) const fn table(self) -> &'static [CpuFeature] {
        match self {
            Family::X86 => &X86_FEATURES,
            Family::Aarch64 => &AARCH64_FEATURES,
        }
    }
}

/// Where the hardware reports a feature.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // Each target reads only its own family's sources.
pub(crate) enum Source {
    /// `cpuid(leaf, sub_leaf)`, register (0 `eax`, 1 `ebx`, 2 `ecx`, 3 `edx`) and bit; and the bits of
    /// XCR0 the OS must have set, for a feature whose registers the OS must save on a context switch
    /// (AVX: 0x6, AVX-512: 0xe6, AMX: 0x6_0000, APX: 0x8_0000).
    Cpuid { leaf: u32, sub_leaf: u32, register: u8, bit: u8, xcr0: u32 },
    /// AVX10 at `version` or later: `cpuid(7, 1)`'s EDX bit 19, then `cpuid(0x24, 0)`'s EBX bits 7:0.
    Avx10 { version: u8 },
    /// Linux's `AT_HWCAP` (word 1) or `AT_HWCAP2` (word 2): every bit of `mask`.
    Hwcap { word: u8, mask: u64 },
}

/// One feature a build can assume.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CpuFeature {
    /// Its `target_feature` name.
    pub(crate) name: &'static str,
    #[allow(dead_code)] // Unread where the CPU cannot be read (macOS on aarch64, other arches).
    pub(crate) source: Source,
    /// The x86-64 microarchitecture level that first requires it (2, 3 or 4), or 0.
    pub(crate) level: u8,
}

const EAX: u8 = 0;
const EBX: u8 = 1;
const ECX: u8 = 2;
const EDX: u8 = 3;
const EXTENDED: u32 = 0x8000_0001;
/// XCR0 bits: SSE and AVX state; with the three AVX-512 states; AMX's two; APX's.
const AVX: u32 = 0x6;
const AVX512: u32 = 0xe6;
const AMX: u32 = 0x6_0000;
const APX: u32 = 0x8_0000;

const fn cpuid(leaf: u32, sub_leaf: u32, register: u8, bit: u8, xcr0: u32) -> Source {
    Source::Cpuid { leaf, sub_leaf, register, bit, xcr0 }
}

const fn hwcap(bits: &[u8]) -> Source {
    hwcap_word(1, bits)
}

const fn hwcap2(bits: &[u8]) -> Source {
    hwcap_word(2, bits)
}

const fn hwcap_word(word: u8, bits: &[u8]) -> Source {
    let mut mask = 0;
    let mut i = 0;
    while i < bits.len() {
        mask |= 1 << bits[i];
        i += 1;
    }
    Source::Hwcap { word, mask }
}

/// Calls `$callback!` with every row: `x86: [NAME => SOURCE, LEVEL; ...] aarch64: [NAME => SOURCE; ...]`.
/// Rows are literals, so that a callback can write `cfg(target_feature = NAME)` for each.
macro_rules! cpu_features {
    ($callback:ident) => {
        $callback! {
            // From Intel's and AMD's CPUID tables: the x86-64 levels first.
            x86: [
                // x86-64-v2. (Its LAHF/SAHF is a row below: a stable compiler does not report it,
                // so a level counted with it would never be reached.)
                "cmpxchg16b" => cpuid(1, 0, ECX, 13, 0), 2;
                "popcnt" => cpuid(1, 0, ECX, 23, 0), 2;
                "sse3" => cpuid(1, 0, ECX, 0, 0), 2;
                "sse4.1" => cpuid(1, 0, ECX, 19, 0), 2;
                "sse4.2" => cpuid(1, 0, ECX, 20, 0), 2;
                "ssse3" => cpuid(1, 0, ECX, 9, 0), 2;
                // x86-64-v3
                "avx" => cpuid(1, 0, ECX, 28, AVX), 3;
                "avx2" => cpuid(7, 0, EBX, 5, AVX), 3;
                "bmi1" => cpuid(7, 0, EBX, 3, 0), 3;
                "bmi2" => cpuid(7, 0, EBX, 8, 0), 3;
                "f16c" => cpuid(1, 0, ECX, 29, AVX), 3;
                "fma" => cpuid(1, 0, ECX, 12, AVX), 3;
                "lzcnt" => cpuid(EXTENDED, 0, ECX, 5, 0), 3;
                "movbe" => cpuid(1, 0, ECX, 22, 0), 3;
                "xsave" => cpuid(1, 0, ECX, 26, 0), 3;
                // x86-64-v4
                "avx512bw" => cpuid(7, 0, EBX, 30, AVX512), 4;
                "avx512cd" => cpuid(7, 0, EBX, 28, AVX512), 4;
                "avx512dq" => cpuid(7, 0, EBX, 17, AVX512), 4;
                "avx512f" => cpuid(7, 0, EBX, 16, AVX512), 4;
                "avx512vl" => cpuid(7, 0, EBX, 31, AVX512), 4;
                // x86, outside the levels
                "adx" => cpuid(7, 0, EBX, 19, 0), 0;
                "aes" => cpuid(1, 0, ECX, 25, 0), 0;
                "amx-avx512" => cpuid(0x1e, 1, EAX, 7, AMX | AVX512), 0;
                "amx-bf16" => cpuid(7, 0, EDX, 22, AMX), 0;
                "amx-complex" => cpuid(7, 1, EDX, 8, AMX), 0;
                "amx-fp16" => cpuid(7, 1, EAX, 21, AMX), 0;
                "amx-fp8" => cpuid(0x1e, 1, EAX, 4, AMX), 0;
                "amx-int8" => cpuid(7, 0, EDX, 25, AMX), 0;
                "amx-movrs" => cpuid(0x1e, 1, EAX, 8, AMX), 0;
                "amx-tf32" => cpuid(0x1e, 1, EAX, 6, AMX), 0;
                "amx-tile" => cpuid(7, 0, EDX, 24, AMX), 0;
                "apxf" => cpuid(7, 1, EDX, 21, APX), 0;
                "avx10.1" => Source::Avx10 { version: 1 }, 0;
                "avx10.2" => Source::Avx10 { version: 2 }, 0;
                "avx512bf16" => cpuid(7, 1, EAX, 5, AVX512), 0;
                "avx512bitalg" => cpuid(7, 0, ECX, 12, AVX512), 0;
                "avx512fp16" => cpuid(7, 0, EDX, 23, AVX512), 0;
                "avx512ifma" => cpuid(7, 0, EBX, 21, AVX512), 0;
                "avx512vbmi" => cpuid(7, 0, ECX, 1, AVX512), 0;
                "avx512vbmi2" => cpuid(7, 0, ECX, 6, AVX512), 0;
                "avx512vnni" => cpuid(7, 0, ECX, 11, AVX512), 0;
                "avx512vp2intersect" => cpuid(7, 0, EDX, 8, AVX512), 0;
                "avx512vpopcntdq" => cpuid(7, 0, ECX, 14, AVX512), 0;
                "avxifma" => cpuid(7, 1, EAX, 23, AVX), 0;
                "avxneconvert" => cpuid(7, 1, EDX, 5, AVX), 0;
                "avxvnni" => cpuid(7, 1, EAX, 4, AVX), 0;
                "avxvnniint16" => cpuid(7, 1, EDX, 10, AVX), 0;
                "avxvnniint8" => cpuid(7, 1, EDX, 4, AVX), 0;
                "ermsb" => cpuid(7, 0, EBX, 9, 0), 0;
                "fma4" => cpuid(EXTENDED, 0, ECX, 16, AVX), 0;
                "gfni" => cpuid(7, 0, ECX, 8, 0), 0;
                "kl" => cpuid(0x19, 0, EBX, 0, 0), 0;
                "lahfsahf" => cpuid(EXTENDED, 0, ECX, 0, 0), 0;
                "movrs" => cpuid(7, 1, EAX, 31, 0), 0;
                "pclmulqdq" => cpuid(1, 0, ECX, 1, 0), 0;
                "prfchw" => cpuid(EXTENDED, 0, ECX, 8, 0), 0;
                "rdrand" => cpuid(1, 0, ECX, 30, 0), 0;
                "rdseed" => cpuid(7, 0, EBX, 18, 0), 0;
                "rtm" => cpuid(7, 0, EBX, 11, 0), 0;
                "sha" => cpuid(7, 0, EBX, 29, 0), 0;
                "sha512" => cpuid(7, 1, EAX, 0, AVX), 0;
                "sm3" => cpuid(7, 1, EAX, 1, AVX), 0;
                "sm4" => cpuid(7, 1, EAX, 2, AVX), 0;
                "sse4a" => cpuid(EXTENDED, 0, ECX, 6, 0), 0;
                "tbm" => cpuid(EXTENDED, 0, ECX, 21, 0), 0;
                "vaes" => cpuid(7, 0, ECX, 9, AVX), 0;
                "vpclmulqdq" => cpuid(7, 0, ECX, 10, AVX), 0;
                "widekl" => cpuid(0x19, 0, EBX, 2, 0), 0;
                "xop" => cpuid(EXTENDED, 0, ECX, 11, AVX), 0;
                "xsavec" => cpuid(0xd, 1, EAX, 1, 0), 0;
                "xsaveopt" => cpuid(0xd, 1, EAX, 0, 0), 0;
                "xsaves" => cpuid(0xd, 1, EAX, 3, 0), 0;
            ]
            // From Linux's `asm/hwcap.h`: `AT_HWCAP` bits, then `AT_HWCAP2` bits.
            aarch64: [
                "aes" => hwcap(&[3, 4]);
                "crc" => hwcap(&[7]);
                "dit" => hwcap(&[24]);
                "dotprod" => hwcap(&[20]);
                "dpb" => hwcap(&[16]);
                "fcma" => hwcap(&[14]);
                "fhm" => hwcap(&[23]);
                "flagm" => hwcap(&[27]);
                "fp16" => hwcap(&[9, 10]);
                "jsconv" => hwcap(&[13]);
                "lse" => hwcap(&[8]);
                "lse2" => hwcap(&[25]);
                "paca" => hwcap(&[30]);
                "pacg" => hwcap(&[31]);
                "rcpc" => hwcap(&[15]);
                "rcpc2" => hwcap(&[26]);
                "rdm" => hwcap(&[12]);
                "sb" => hwcap(&[29]);
                "sha2" => hwcap(&[5, 6]);
                "sha3" => hwcap(&[17, 21]);
                "sm4" => hwcap(&[18, 19]);
                "ssbs" => hwcap(&[28]);
                "sve" => hwcap(&[22]);
                "bf16" => hwcap2(&[14]);
                "bti" => hwcap2(&[17]);
                "cssc" => hwcap2(&[34]);
                "dpb2" => hwcap2(&[0]);
                "ecv" => hwcap2(&[19]);
                "f32mm" => hwcap2(&[10]);
                "f64mm" => hwcap2(&[11]);
                "faminmax" => hwcap2(&[50]);
                "flagm2" => hwcap2(&[7]);
                "fp8" => hwcap2(&[51]);
                "fp8dot2" => hwcap2(&[54]);
                "fp8dot4" => hwcap2(&[53]);
                "fp8fma" => hwcap2(&[52]);
                "frintts" => hwcap2(&[8]);
                "hbc" => hwcap2(&[44]);
                "i8mm" => hwcap2(&[13]);
                "lse128" => hwcap2(&[47]);
                "lut" => hwcap2(&[49]);
                "mops" => hwcap2(&[43]);
                "mte" => hwcap2(&[18]);
                "rand" => hwcap2(&[16]);
                "rcpc3" => hwcap2(&[46]);
                "sme" => hwcap2(&[23]);
                "sme-b16b16" => hwcap2(&[41]);
                "sme-f16f16" => hwcap2(&[42]);
                "sme-f64f64" => hwcap2(&[25]);
                "sme-f8f16" => hwcap2(&[58]);
                "sme-f8f32" => hwcap2(&[59]);
                "sme-fa64" => hwcap2(&[30]);
                "sme-i16i64" => hwcap2(&[24]);
                "sme-lutv2" => hwcap2(&[57]);
                "sme2" => hwcap2(&[37]);
                "sme2p1" => hwcap2(&[38]);
                "ssve-fp8dot2" => hwcap2(&[62]);
                "ssve-fp8dot4" => hwcap2(&[61]);
                "ssve-fp8fma" => hwcap2(&[60]);
                "sve-b16b16" => hwcap2(&[45]);
                "sve2" => hwcap2(&[1]);
                "sve2-aes" => hwcap2(&[2, 3]);
                "sve2-bitperm" => hwcap2(&[4]);
                "sve2-sha3" => hwcap2(&[5]);
                "sve2-sm4" => hwcap2(&[6]);
                "sve2p1" => hwcap2(&[36]);
                "wfxt" => hwcap2(&[31]);
            ]
        }
    };
}

/// Defines the tables from the rows, and `BUILD_FLAGS`: `cfg!(target_feature)` of every row (x86,
/// then aarch64) as the crate compiling this was compiled. Names a compiler does not know (1.85
/// knows fewer than 1.95) are false there, and must not warn.
macro_rules! define_tables {
    (
        x86: [$($x86:literal => $x86_source:expr, $level:literal;)*]
        aarch64: [$($arm:literal => $arm_source:expr;)*]
    ) => {
        /// The x86 features the gate checks.
        pub(crate) const X86_FEATURES: [CpuFeature; [$($x86),*].len()] =
            [$(CpuFeature { name: $x86, source: $x86_source, level: $level }),*];
        /// The aarch64 features the gate checks.
        pub(crate) const AARCH64_FEATURES: [CpuFeature; [$($arm),*].len()] =
            [$(CpuFeature { name: $arm, source: $arm_source, level: 0 }),*];
        /// `cfg!(target_feature = ...)` of every row, x86 then aarch64, in the crate compiling this.
        #[allow(dead_code)] // The macro crate, which runs on the build host, never reads it.
        pub(crate) const BUILD_FLAGS: [bool; X86_FEATURES.len() + AARCH64_FEATURES.len()] =
            [$(cfg!(target_feature = $x86),)* $(cfg!(target_feature = $arm)),*];
    };
}

cpu_features!(define_tables);

/// Features rustc lists for x86 or aarch64 that no table row checks, and why: `(family, name, why)`.
/// A test compares the tables and this list with `rustc --print target-features`.
pub(crate) const UNCHECKED: &[(Family, &str, &str)] = &[
    (Family::X86, "crt-static", "links the C runtime statically; no instructions"),
    (Family::X86, "fxsr", "the baseline of every x86 target"),
    (Family::X86, "sse", "the baseline of every x86 target but i586"),
    (Family::X86, "sse2", "the baseline of every x86 target but i586"),
    (Family::X86, "x87", "the baseline of every x86 target"),
    (Family::Aarch64, "crt-static", "links the C runtime statically; no instructions"),
    (Family::Aarch64, "neon", "the baseline of every aarch64 target"),
    (Family::Aarch64, "outline-atomics", "calls helpers that pick LSE at run time; no instructions"),
    (Family::Aarch64, "lor", "privileged (EL1) instructions only; Linux reports no HWCAP"),
    (Family::Aarch64, "pan", "privileged (EL1) instructions only; Linux reports no HWCAP"),
    (Family::Aarch64, "vh", "privileged (EL2) instructions only; Linux reports no HWCAP"),
    (Family::Aarch64, "pmuv3", "performance monitors, not user code; Linux reports no HWCAP"),
    (Family::Aarch64, "spe", "statistical profiling, not user code; Linux reports no HWCAP"),
    (Family::Aarch64, "ras", "RAS errors are the kernel's; ESB is a hint elsewhere; no HWCAP"),
    (Family::Aarch64, "pauth-lr", "Linux reports no HWCAP for it yet"),
    (Family::Aarch64, "reserve-x18", "keeps a register free; no instructions (Rust 1.85 lists it)"),
    (Family::Aarch64, "tme", "withdrawn by Arm, and Linux reports no HWCAP (Rust 1.85 lists it)"),
    (Family::Aarch64, "v8.1a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v8.2a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v8.3a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v8.4a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v8.5a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v8.6a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v8.7a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v8.8a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v8.9a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v9a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v9.1a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v9.2a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v9.3a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v9.4a", "an architecture version: its parts that user code can use are rows"),
    (Family::Aarch64, "v9.5a", "an architecture version: its parts that user code can use are rows"),
];
