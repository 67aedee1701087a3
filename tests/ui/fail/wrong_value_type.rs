#[platform_gate::platform_gated(env = KV_UNSUPPORTED_ARCH, exit_code = "3", matrix = "SUPPORT")]
fn main() {}
