// The runtime's attribute inside `cfg_attr`, the gate below it: tokio makes `main` synchronous
// first, and the gate goes at its top.
#[cfg_attr(all(), tokio::main)]
#[platform_gate::platform_gated]
async fn main() {}
