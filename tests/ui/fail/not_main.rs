#[platform_gate::platform_gated]
fn serve() {}

fn main() {
    serve();
}
