#[platform_gate::platform_gated]
#[tokio::main]
async fn main() -> Result<(), std::io::Error> {
    tokio::task::yield_now().await;
    Ok(())
}
