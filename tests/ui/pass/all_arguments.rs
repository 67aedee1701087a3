mod support {
    pub const MATRIX: platform_gate::Matrix = platform_gate::matrix! { amd64 linux => stable };
}

#[platform_gate::platform_gated(
    env = "KV_UNSUPPORTED_ARCH",
    matrix = crate::support::MATRIX,
    check = "platform",
    allow = "experimental",
    exit_code = 255,
    crate = "::platform_gate",
)]
fn main() {}
