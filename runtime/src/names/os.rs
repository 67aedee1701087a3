// Operating systems: one row each, with Go's spelling (`GOOS`, etcd's matrix), Rust's `target_os`,
// the proper name a matrix shows, and the `cfg` that is true when compiling for it.

name_table! {
    /// An operating system, as an operator or a support matrix names it.
    ///
    /// Names parse from the Go spelling (`GOOS`) or the Rust one (`target_os`), ASCII
    /// case-insensitively; support matrices show the proper name (`Linux`, `Darwin`).
    ///
    /// ```
    /// use platform_gate::Os;
    ///
    /// assert_eq!(Os::from_name("macos"), Some(Os::Darwin));
    /// assert_eq!(Os::from_name("Darwin"), Some(Os::Darwin));
    /// assert_eq!(format!("{:#}", Os::Darwin), "darwin (macos)");
    /// assert_eq!(Os::Linux.proper_name(), "Linux");
    /// assert!(Os::ALL.contains(&Os::Windows));
    /// ```
    pub enum Os {
        /// `linux` in both.
        Linux = "linux" / "linux" shown "Linux" when target_os = "linux";
        /// `darwin` in Go, `macos` in Rust.
        Darwin = "darwin" / "macos" shown "Darwin" when target_os = "macos";
        /// `windows` in both.
        Windows = "windows" / "windows" shown "Windows" when target_os = "windows";
        /// `freebsd` in both.
        FreeBsd = "freebsd" / "freebsd" shown "FreeBSD" when target_os = "freebsd";
        /// `netbsd` in both.
        NetBsd = "netbsd" / "netbsd" shown "NetBSD" when target_os = "netbsd";
        /// `openbsd` in both.
        OpenBsd = "openbsd" / "openbsd" shown "OpenBSD" when target_os = "openbsd";
        /// `dragonfly` in both.
        DragonFly = "dragonfly" / "dragonfly" shown "DragonFly" when target_os = "dragonfly";
        /// `illumos` in both.
        Illumos = "illumos" / "illumos" shown "illumos" when target_os = "illumos";
        /// `solaris` in both.
        Solaris = "solaris" / "solaris" shown "Solaris" when target_os = "solaris";
        /// `android` in both.
        Android = "android" / "android" shown "Android" when target_os = "android";
        /// `ios` in both.
        Ios = "ios" / "ios" shown "iOS" when target_os = "ios";
        /// `aix` in both.
        Aix = "aix" / "aix" shown "AIX" when target_os = "aix";
        /// WebAssembly System Interface: `wasip1` in Go, `wasi` in Rust.
        Wasi = "wasip1" / "wasi" shown "WASI" when target_os = "wasi";
    }
    /// An operating system this crate has no name for, spelled as `std::env::consts::OS`
    /// spells it. Only the current platform produces it; names never parse to it.
    Other = std::env::consts::OS;
}
