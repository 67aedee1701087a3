#[platform_gate::platform_gated]
struct Server;

fn main() {}
