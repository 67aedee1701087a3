// CPU architectures: one row each, with Go's spelling (etcd's matrix and variable), Rust's, any
// aliases operators use, and the `cfg` that is true when compiling for it.

name_table! {
    /// A CPU architecture, as an operator or a support matrix names it.
    ///
    /// Every architecture has a Go spelling (`GOARCH`, used by etcd's matrix and its
    /// `ETCD_UNSUPPORTED_ARCH` variable) and a Rust spelling (`target_arch`, or the target triple's
    /// prefix where `target_arch` alone cannot tell two apart, as for `powerpc64le`). Names parse
    /// from either, ASCII case-insensitively, and the whole name must match.
    ///
    /// ```
    /// use platform_gate::Arch;
    ///
    /// assert_eq!(Arch::from_name("AMD64"), Some(Arch::X86_64));
    /// assert_eq!(Arch::from_name("aarch64"), Some(Arch::Aarch64));
    /// // Kubernetes labels and manifests write Go's spelling exactly.
    /// assert_eq!(Arch::from_go_name("arm64"), Some(Arch::Aarch64));
    /// assert_eq!(Arch::from_go_name("aarch64"), None);
    /// assert!(Arch::X86.is_named("i686"));
    /// assert!(!Arch::X86_64.is_named("x86"));
    /// assert_eq!(Arch::Aarch64.to_string(), "arm64");
    /// // The alternate form shows both spellings where they differ, as messages do.
    /// assert_eq!(format!("{:#}", Arch::Aarch64), "arm64 (aarch64)");
    /// assert_eq!(format!("{:#}", Arch::S390x), "s390x");
    /// assert!(Arch::ALL.contains(&Arch::Riscv64));
    /// ```
    pub enum Arch {
        /// `amd64` in Go, `x86_64` in Rust; Debian's `x32` (the ILP32 ABI on the same CPUs).
        X86_64 = "amd64" / "x86_64" also "x32" when target_arch = "x86_64";
        /// 32-bit x86: `386` in Go, `x86` in Rust; `i386` (Debian), `i686` (`uname -m`) and Nix's
        /// `i486`, `i586` are accepted too.
        X86 = "386" / "x86" also "i386", "i486", "i586", "i686" when target_arch = "x86";
        /// `arm64` in Go, `aarch64` in Rust; Debian's `arm64ilp32` and Nix's `aarch64_be` (the same
        /// `target_arch`).
        Aarch64 = "arm64" / "aarch64" also "arm64ilp32", "aarch64_be" when target_arch = "aarch64";
        /// 32-bit ARM: `arm` in both; also the names distributions and `uname -m` use: `armhf`,
        /// `armel`, `armeb` (Debian), `armv7` (Alpine), what `uname -m` prints (`armv5tel`,
        /// `armv6l`, `armv7l`, and `armv8l` for a 32-bit process on a 64-bit kernel) and Nix's
        /// CPU names (`armv6m`, `armv7a`, `armv7m`, `armv7r`, `armv8a`, `armv8m`, `armv8r`).
        Arm = "arm" / "arm" also "armhf", "armel", "armeb", "armv5tel", "armv6l", "armv6m", "armv7", "armv7a",
            "armv7l", "armv7m", "armv7r", "armv8a", "armv8l", "armv8m", "armv8r" when target_arch = "arm";
        /// Little-endian 64-bit POWER: `ppc64le` in Go, `powerpc64le` in Rust; Debian's `ppc64el`.
        Powerpc64le = "ppc64le" / "powerpc64le" also "ppc64el"
            when all(target_arch = "powerpc64", target_endian = "little");
        /// Big-endian 64-bit POWER: `ppc64` in Go, `powerpc64` in Rust.
        Powerpc64 = "ppc64" / "powerpc64" when all(target_arch = "powerpc64", target_endian = "big");
        /// 32-bit POWER: `ppc` in Go, `powerpc` in Rust; Debian's `powerpcspe` and `powerpcel`,
        /// Nix's `powerpcle` and `uname -m`'s `ppcle` (the same `target_arch`).
        Powerpc = "ppc" / "powerpc" also "powerpcspe", "powerpcel", "powerpcle", "ppcle" when target_arch = "powerpc";
        /// IBM Z: `s390x` in both.
        S390x = "s390x" / "s390x" when target_arch = "s390x";
        /// `riscv64` in both.
        Riscv64 = "riscv64" / "riscv64" when target_arch = "riscv64";
        /// `riscv32` in both.
        Riscv32 = "riscv32" / "riscv32" when target_arch = "riscv32";
        /// `loong64` in Go, `loongarch64` in Rust.
        Loongarch64 = "loong64" / "loongarch64" when target_arch = "loongarch64";
        /// Big-endian 32-bit MIPS: `mips` in both.
        Mips = "mips" / "mips" when all(target_arch = "mips", target_endian = "big");
        /// Little-endian 32-bit MIPS: `mipsle` in Go, `mipsel` in Rust.
        Mipsel = "mipsle" / "mipsel" when all(target_arch = "mips", target_endian = "little");
        /// Big-endian 64-bit MIPS: `mips64` in both; Debian's `mipsn32` (the N32 ABI on the same CPUs).
        Mips64 = "mips64" / "mips64" also "mipsn32" when all(target_arch = "mips64", target_endian = "big");
        /// Little-endian 64-bit MIPS: `mips64le` in Go, `mips64el` in Rust; Debian's `mipsn32el`.
        /// `uname -m` prints `mips64` here too, which the override rule accepts (see `names`).
        Mips64el = "mips64le" / "mips64el" also "mipsn32el"
            when all(target_arch = "mips64", target_endian = "little");
        /// `sparc64` in both.
        Sparc64 = "sparc64" / "sparc64" when target_arch = "sparc64";
        /// `wasm` in Go, `wasm32` in Rust.
        Wasm32 = "wasm" / "wasm32" when target_arch = "wasm32";
    }
    /// An architecture this crate has no name for, spelled as `std::env::consts::ARCH` spells
    /// it. Only the current platform produces it; names never parse to it.
    Other = std::env::consts::ARCH;
}
