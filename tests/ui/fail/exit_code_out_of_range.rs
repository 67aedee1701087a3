#[platform_gate::platform_gated(exit_code = 256)]
fn main() {}
