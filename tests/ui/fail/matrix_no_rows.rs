const SUPPORT: platform_gate::Matrix = platform_gate::matrix! {};

fn main() {}
