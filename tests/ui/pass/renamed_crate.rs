// A crate renamed in Cargo.toml is reached with `crate = "..."`; `matrix!` needs nothing.
// (`extern crate ... as` stands in for the Cargo.toml rename, which the outside-crate test does for real.)
extern crate platform_gate as pg;

const SUPPORT: pg::Matrix = pg::matrix! { amd64 linux => stable, arm64 linux => stable };

#[pg::platform_gated(crate = "pg", matrix = SUPPORT)]
fn main() {}
