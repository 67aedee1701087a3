use std::process::ExitCode;

#[platform_gate::platform_gated(exit_code = 3)]
fn main() -> ExitCode {
    ExitCode::SUCCESS
}
