// Independent mistakes are reported together, and `main` is still emitted: no error about it.
#[platform_gate::platform_gated(env = "", check = "os", exit_code = 300, colour = "red")]
fn main() {}
