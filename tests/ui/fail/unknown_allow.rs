#[platform_gate::platform_gated(allow = "unstable")]
fn main() {}
