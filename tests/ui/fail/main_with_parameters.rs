#[platform_gate::platform_gated]
fn main(args: Vec<String>) {}
