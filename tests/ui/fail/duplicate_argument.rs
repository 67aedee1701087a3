#[platform_gate::platform_gated(env = "KV_UNSUPPORTED_ARCH", env = "KV_ARCH")]
fn main() {}
