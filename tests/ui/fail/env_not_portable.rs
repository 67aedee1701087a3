#[platform_gate::platform_gated(env = "MY ARCH")]
fn main() {}
