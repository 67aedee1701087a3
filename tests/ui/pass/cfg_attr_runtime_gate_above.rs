// The runtime's attribute inside `cfg_attr`, the gate above it: `cfg_attr` is expanded before the
// gate sees the item, so it finds `#[tokio::main]` and runs before the runtime.
#[platform_gate::platform_gated]
#[cfg_attr(all(), tokio::main)]
async fn main() {}
