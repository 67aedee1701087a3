#[platform_gate::platform_gated(env = "KV_UNSUPPORTED_ARCH=arm64")]
fn main() {}
