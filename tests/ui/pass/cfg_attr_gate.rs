// The gate itself inside `cfg_attr`, as a project gates only some builds.
#[cfg_attr(all(), platform_gate::platform_gated(exit_code = 78))]
fn main() {}
