#[platform_gate::platform_gated(env = "")]
fn main() {}
