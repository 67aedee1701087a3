use std::error::Error;

#[platform_gate::platform_gated]
fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = "2379".parse()?;
    assert_eq!(port, 2379);
    Ok(())
}
