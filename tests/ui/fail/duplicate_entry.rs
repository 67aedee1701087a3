const SUPPORT: platform_gate::Matrix = platform_gate::matrix! {
    arm64 linux => stable,
    amd64 linux => stable,
    aarch64 linux => experimental,
};

fn main() {}
