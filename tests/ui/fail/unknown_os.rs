const SUPPORT: platform_gate::Matrix = platform_gate::matrix! {
    amd64 linx => stable,
};

fn main() {}
