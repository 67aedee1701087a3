#[platform_gate::platform_gated(alow = "experimental")]
fn main() {}
