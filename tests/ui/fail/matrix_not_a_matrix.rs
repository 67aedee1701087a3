const SUPPORT: &str = "amd64 linux stable";

#[platform_gate::platform_gated(matrix = SUPPORT)]
fn main() {}
