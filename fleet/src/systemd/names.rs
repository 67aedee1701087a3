// The one place that spells a systemd name: `ConditionArchitecture=` values per architecture and
// `ConditionCPUFeature=` values per CPU feature, bound by `tests.rs` to systemd's own lists.

use platform_gate::{Arch, CpuFeatures};

/// For each x86 CPU feature the gate checks, by its `target_feature` name, the
/// `ConditionCPUFeature=` values that together prove it, as systemd 252 names them (systemd.unit(5):
/// CPUID leaves 1, 7, 0x80000001 and 0x80000007). Empty where systemd has no name. systemd reads
/// CPUID bits only; where the gate also requires the OS to save the feature's registers (XCR0), the
/// line `osxsave` stands for that: Linux sets CR4.OSXSAVE, which that bit reports, only with every
/// register state the CPU has enabled, and clears it (`noxsave`) otherwise.
pub const SYSTEMD_CPU_FEATURES: &[(&str, &[&str])] = &[
    ("cmpxchg16b", &["cx16"]),
    ("popcnt", &["popcnt"]),
    ("sse3", &["pni"]),
    ("sse4.1", &["sse4_1"]),
    ("sse4.2", &["sse4_2"]),
    ("ssse3", &["ssse3"]),
    ("avx", &["avx", "osxsave"]),
    ("avx2", &["avx2", "osxsave"]),
    ("bmi1", &["bmi1"]),
    ("bmi2", &["bmi2"]),
    ("f16c", &["f16c", "osxsave"]),
    ("fma", &["fma3", "osxsave"]),
    ("lzcnt", &["abm"]),
    ("movbe", &["movbe"]),
    ("xsave", &["xsave"]),
    ("avx512bw", &[]),
    ("avx512cd", &[]),
    ("avx512dq", &[]),
    ("avx512f", &[]),
    ("avx512vl", &[]),
    ("adx", &["adx"]),
    ("aes", &["aes"]),
    ("amx-avx512", &[]),
    ("amx-bf16", &[]),
    ("amx-complex", &[]),
    ("amx-fp16", &[]),
    ("amx-fp8", &[]),
    ("amx-int8", &[]),
    ("amx-movrs", &[]),
    ("amx-tf32", &[]),
    ("amx-tile", &[]),
    ("apxf", &[]),
    ("avx10.1", &[]),
    ("avx10.2", &[]),
    ("avx512bf16", &[]),
    ("avx512bitalg", &[]),
    ("avx512fp16", &[]),
    ("avx512ifma", &[]),
    ("avx512vbmi", &[]),
    ("avx512vbmi2", &[]),
    ("avx512vnni", &[]),
    ("avx512vp2intersect", &[]),
    ("avx512vpopcntdq", &[]),
    ("avxifma", &[]),
    ("avxneconvert", &[]),
    ("avxvnni", &[]),
    ("avxvnniint16", &[]),
    ("avxvnniint8", &[]),
    ("ermsb", &[]),
    ("fma4", &[]),
    ("gfni", &[]),
    ("kl", &[]),
    ("lahfsahf", &["lahf_lm"]),
    ("movrs", &[]),
    ("pclmulqdq", &["pclmul"]),
    ("prfchw", &[]),
    ("rdrand", &["rdrand"]),
    ("rdseed", &["rdseed"]),
    ("rtm", &[]),
    ("sha", &["sha_ni"]),
    ("sha512", &[]),
    ("sm3", &[]),
    ("sm4", &[]),
    ("sse4a", &[]),
    ("tbm", &[]),
    ("vaes", &[]),
    ("vpclmulqdq", &[]),
    ("widekl", &[]),
    ("xop", &[]),
    ("xsavec", &[]),
    ("xsaveopt", &[]),
    ("xsaves", &[]),
];

/// The `ConditionArchitecture=` values of the kernels that run a binary for `arch`, as systemd
/// names what `uname -m` prints (its `uname_architecture()`): the architecture's own, and for a
/// 32-bit one the 64-bit kernel that runs it too (an x86 binary on x86-64, an arm binary on arm64,
/// as Raspberry Pi OS does). systemd names MIPS by `uname -m`, which prints `mips` and `mips64` for
/// both byte orders, so its `mips-le` and `mips64-le` never match. Empty where systemd has no name
/// (wasm32).
///
/// ```
/// use platform_gate::Arch;
/// use platform_gate_fleet::systemd::architectures;
///
/// assert_eq!(architectures(Arch::X86_64), ["x86-64"]);
/// assert_eq!(architectures(Arch::Arm), ["arm", "arm64"]);
/// assert_eq!(architectures(Arch::Mips64el), ["mips64"]);
/// assert!(architectures(Arch::Wasm32).is_empty());
/// ```
pub fn architectures(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X86_64 => &["x86-64"],
        Arch::X86 => &["x86", "x86-64"],
        Arch::Aarch64 => &["arm64"],
        Arch::Arm => &["arm", "arm64"],
        Arch::Powerpc64le => &["ppc64-le"],
        Arch::Powerpc64 => &["ppc64"],
        Arch::Powerpc => &["ppc", "ppc64"],
        Arch::S390x => &["s390x"],
        Arch::Riscv64 => &["riscv64"],
        Arch::Riscv32 => &["riscv32"],
        Arch::Loongarch64 => &["loongarch64"],
        Arch::Mips | Arch::Mipsel => &["mips", "mips64"],
        Arch::Mips64 | Arch::Mips64el => &["mips64"],
        Arch::Sparc64 => &["sparc64"],
        // wasm32, an architecture the gate has no name for, and any it names later.
        _ => &[],
    }
}

/// What a set of CPU features asks of `ConditionCPUFeature=`.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
/// use platform_gate_fleet::systemd::cpu_conditions;
///
/// let v4 = cpu_conditions(CpuFeatures::x86_64_level(4));
/// assert!(v4.names.contains(&"avx2") && v4.unnamed.contains(&"avx512f"));
/// let lse = cpu_conditions(CpuFeatures::from_names(Arch::Aarch64, &["lse"]).unwrap());
/// assert_eq!((lse.names.len(), lse.unnamed), (0, vec!["lse"]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CpuConditions {
    /// systemd's names, each once, in the table's order.
    pub names: Vec<&'static str>,
    /// The features systemd has no name for: every feature of a non-x86 architecture.
    pub unnamed: Vec<&'static str>,
}

/// The `ConditionCPUFeature=` values that prove every feature of `features`, and the features
/// systemd cannot name ([`SYSTEMD_CPU_FEATURES`]).
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
///
/// let aes = CpuFeatures::from_names(Arch::X86_64, &["aes", "pclmulqdq"]).unwrap();
/// assert_eq!(platform_gate_fleet::systemd::cpu_conditions(aes).names, ["aes", "pclmul"]);
/// ```
pub fn cpu_conditions(features: CpuFeatures) -> CpuConditions {
    let mut conditions = CpuConditions::default();
    for feature in features.names() {
        let names = match features.is_x86() {
            true => {
                SYSTEMD_CPU_FEATURES.iter().find(|(name, _)| *name == feature).map_or(&[][..], |row| row.1)
            }
            false => &[],
        };
        if names.is_empty() {
            conditions.unnamed.push(feature);
        }
        for name in names {
            if !conditions.names.contains(name) {
                conditions.names.push(name);
            }
        }
    }
    conditions
}
