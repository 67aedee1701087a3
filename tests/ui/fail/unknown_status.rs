const SUPPORT: platform_gate::Matrix = platform_gate::matrix! {
    amd64 linux => stabel,
    riscv64 linux => unsupported,
};

fn main() {}
