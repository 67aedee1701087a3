#[platform_gate::platform_gated(env = "KV_UNSUPPORTED_ARCH\0")]
fn main() {}
