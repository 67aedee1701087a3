#[platform_gate::platform_gated(check = "platfrom")]
fn main() {}
