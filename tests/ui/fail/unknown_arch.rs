const SUPPORT: platform_gate::Matrix = platform_gate::matrix! {
    amd64 linux => stable,
    aarch46 linux => experimental,
};

fn main() {}
