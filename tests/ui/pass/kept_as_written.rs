// Other attributes, visibility, inner attributes and the body are kept as written.
#[platform_gate::platform_gated(check = "arch", allow = "stable")]
#[allow(unused_variables)]
#[inline(never)]
pub fn main() {
    #![allow(unused_mut)]
    let mut unused = 1;
}
