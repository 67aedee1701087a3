#[platform_gate::platform_gated(exit_code = 0)]
fn main() {}
