// CPU features a build can assume above its architecture's baseline: the `target_feature` name, where
// the hardware reports it, and its x86-64 level. The macro emits one `cfg!` per row in the user's
// crate; the runtime reads the hardware for the same rows. One row per feature, in one place.

/// Which table: x86 rows serve 32- and 64-bit x86 alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    X86,
    Aarch64,
}

impl Family {
    /// The family's rows. Each table has at most 64, so that a set of them is one `u64`: the
    /// refusal runs on a CPU that may lack vector instructions, and a `u64` is never copied with
    /// one.
    pub(crate) const fn table(self) -> &'static [CpuFeature] {
        match self {
            Family::X86 => &X86_FEATURES,
            Family::Aarch64 => &AARCH64_FEATURES,
        }
    }
}

/// Where the hardware reports a feature.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // Each target reads only its own family's source.
pub(crate) enum Source {
    /// `cpuid(leaf, sub_leaf)`, register (0 `eax`, 1 `ebx`, 2 `ecx`, 3 `edx`) and bit. Features
    /// that use the AVX registers also need the OS to save them (`OSXSAVE`).
    Cpuid { leaf: u32, sub_leaf: u32, register: u8, bit: u8, avx_state: bool },
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

const fn x86(name: &'static str, leaf: u32, register: u8, bit: u8, level: u8) -> CpuFeature {
    let source = Source::Cpuid { leaf, sub_leaf: 0, register, bit, avx_state: false };
    CpuFeature { name, source, level }
}

/// An x86 feature that uses the AVX registers, which the OS must save.
const fn x86_avx(name: &'static str, leaf: u32, register: u8, bit: u8, level: u8) -> CpuFeature {
    let source = Source::Cpuid { leaf, sub_leaf: 0, register, bit, avx_state: true };
    CpuFeature { name, source, level }
}

const fn xsave_leaf(name: &'static str, bit: u8) -> CpuFeature {
    let source = Source::Cpuid { leaf: 0xd, sub_leaf: 1, register: EAX, bit, avx_state: false };
    CpuFeature { name, source, level: 0 }
}

const fn arm(name: &'static str, word: u8, mask: u64) -> CpuFeature {
    CpuFeature { name, source: Source::Hwcap { word, mask }, level: 0 }
}

const EAX: u8 = 0;
const EBX: u8 = 1;
const ECX: u8 = 2;
const EXTENDED: u32 = 0x8000_0001;

/// The x86 features the gate checks, from Intel's and AMD's CPUID tables: the x86-64 levels first.
pub(crate) const X86_FEATURES: [CpuFeature; 39] = [
    // x86-64-v2
    x86("cmpxchg16b", 1, ECX, 13, 2),
    x86("popcnt", 1, ECX, 23, 2),
    x86("sse3", 1, ECX, 0, 2),
    x86("sse4.1", 1, ECX, 19, 2),
    x86("sse4.2", 1, ECX, 20, 2),
    x86("ssse3", 1, ECX, 9, 2),
    // x86-64-v3
    x86_avx("avx", 1, ECX, 28, 3),
    x86_avx("avx2", 7, EBX, 5, 3),
    x86("bmi1", 7, EBX, 3, 3),
    x86("bmi2", 7, EBX, 8, 3),
    x86_avx("f16c", 1, ECX, 29, 3),
    x86_avx("fma", 1, ECX, 12, 3),
    x86("lzcnt", EXTENDED, ECX, 5, 3),
    x86("movbe", 1, ECX, 22, 3),
    x86("xsave", 1, ECX, 26, 3),
    // x86-64-v4
    x86_avx("avx512bw", 7, EBX, 30, 4),
    x86_avx("avx512cd", 7, EBX, 28, 4),
    x86_avx("avx512dq", 7, EBX, 17, 4),
    x86_avx("avx512f", 7, EBX, 16, 4),
    x86_avx("avx512vl", 7, EBX, 31, 4),
    // x86, outside the levels
    x86("adx", 7, EBX, 19, 0),
    x86("aes", 1, ECX, 25, 0),
    x86_avx("avx512bitalg", 7, ECX, 12, 0),
    x86_avx("avx512ifma", 7, EBX, 21, 0),
    x86_avx("avx512vbmi", 7, ECX, 1, 0),
    x86_avx("avx512vbmi2", 7, ECX, 6, 0),
    x86_avx("avx512vnni", 7, ECX, 11, 0),
    x86_avx("avx512vpopcntdq", 7, ECX, 14, 0),
    x86("gfni", 7, ECX, 8, 0),
    x86("pclmulqdq", 1, ECX, 1, 0),
    x86("rdrand", 1, ECX, 30, 0),
    x86("rdseed", 7, EBX, 18, 0),
    x86("sha", 7, EBX, 29, 0),
    x86("sse4a", EXTENDED, ECX, 6, 0),
    x86_avx("vaes", 7, ECX, 9, 0),
    x86_avx("vpclmulqdq", 7, ECX, 10, 0),
    xsave_leaf("xsavec", 1),
    xsave_leaf("xsaveopt", 0),
    xsave_leaf("xsaves", 3),
];

/// The aarch64 features the gate checks, from Linux's `asm/hwcap.h`.
pub(crate) const AARCH64_FEATURES: [CpuFeature; 36] = [
    // AT_HWCAP
    arm("aes", 1, 1 << 3 | 1 << 4),
    arm("crc", 1, 1 << 7),
    arm("dit", 1, 1 << 24),
    arm("dotprod", 1, 1 << 20),
    arm("dpb", 1, 1 << 16),
    arm("fcma", 1, 1 << 14),
    arm("fhm", 1, 1 << 23),
    arm("flagm", 1, 1 << 27),
    arm("fp16", 1, 1 << 9 | 1 << 10),
    arm("jsconv", 1, 1 << 13),
    arm("lse", 1, 1 << 8),
    arm("paca", 1, 1 << 30),
    arm("pacg", 1, 1 << 31),
    arm("rcpc", 1, 1 << 15),
    arm("rcpc2", 1, 1 << 26),
    arm("rdm", 1, 1 << 12),
    arm("sb", 1, 1 << 29),
    arm("sha2", 1, 1 << 5 | 1 << 6),
    arm("sha3", 1, 1 << 17 | 1 << 21),
    arm("sm4", 1, 1 << 18 | 1 << 19),
    arm("ssbs", 1, 1 << 28),
    arm("sve", 1, 1 << 22),
    // AT_HWCAP2
    arm("bf16", 2, 1 << 14),
    arm("bti", 2, 1 << 17),
    arm("dpb2", 2, 1 << 0),
    arm("f32mm", 2, 1 << 10),
    arm("f64mm", 2, 1 << 11),
    arm("frintts", 2, 1 << 8),
    arm("i8mm", 2, 1 << 13),
    arm("mte", 2, 1 << 18),
    arm("rand", 2, 1 << 16),
    arm("sve2", 2, 1 << 1),
    arm("sve2-aes", 2, 1 << 2),
    arm("sve2-bitperm", 2, 1 << 4),
    arm("sve2-sha3", 2, 1 << 5),
    arm("sve2-sm4", 2, 1 << 6),
];
