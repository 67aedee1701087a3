use platform_gate::{Matrix, matrix};

const SUPPORT: Matrix = matrix! {
    amd64 linux => stable,
    arm linux => unstable note = "x\n  = help: forged",
};

const MAINTAINED: Matrix = matrix! {
    amd64 linux => stable ["ops team", "@evil\u{202e}"],
};

fn main() {
    let _ = (SUPPORT, MAINTAINED);
}
