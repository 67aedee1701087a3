// Two `main`s, one per `cfg`, each gated: only one is compiled, and its gate must work.
#[cfg(unix)]
#[platform_gate::platform_gated]
fn main() {}

#[cfg(not(unix))]
#[platform_gate::platform_gated]
fn main() {}
