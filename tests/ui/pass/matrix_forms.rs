use platform_gate::{matrix, Arch, Matrix, Os, Platform, Row, Status};

// Go and Rust spellings, any case, `386` as a number, maintainers, notes and a trailing comma.
const SUPPORT: Matrix = matrix! {
    amd64 linux => stable ["ops team", "@alice"],
    x86_64 macos => experimental,
    AARCH64 Linux => Experimental note = "Tested on Graviton only.",
    386 linux => unstable ["@bob"] note = "Known issues on 32-bit.",
    ppc64le linux => stable,
    loong64 linux => unstable,
};

// The same kind of value, by hand.
const BY_HAND: Matrix = Matrix::new(&[Row::new(Arch::Riscv64, Os::Linux, Status::Unstable)]);

const _: () = assert!(SUPPORT.rows().len() == 6);
const _: () = assert!(matches!(SUPPORT.status(Platform::new(Arch::X86, Os::Linux)), Some(Status::Unstable)));
const _: () = assert!(BY_HAND.arch_status(Arch::Riscv64).is_some());

#[platform_gate::platform_gated(matrix = SUPPORT)]
fn main() {}
