#[platform_gate::platform_gated]
fn main<T: Default>() {}
