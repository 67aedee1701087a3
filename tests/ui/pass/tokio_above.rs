#[tokio::main]
#[platform_gate::platform_gated]
async fn main() {
    tokio::task::yield_now().await;
}
