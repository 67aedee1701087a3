// One dependency line, no imports.
#[platform_gate::platform_gated]
fn main() {}
