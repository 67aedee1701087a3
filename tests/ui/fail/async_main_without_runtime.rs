#[platform_gate::platform_gated(env = "KV_UNSUPPORTED_ARCH")]
async fn main() {}
