//! Matrices the end-to-end fixtures share. Each is built from `Platform::CURRENT`, so the tests
//! mean the same on any host: "this machine is unstable", not "x86_64 is unstable".

use platform_gate::{Matrix, Os, Platform, Row, Status};

const HERE: Platform = Platform::CURRENT;

/// This machine's platform, unstable.
pub const HERE_UNSTABLE: Matrix = Matrix::new(&[Row::new(HERE.arch, HERE.os, Status::Unstable)]);

/// This machine's platform, experimental.
pub const HERE_EXPERIMENTAL: Matrix = Matrix::new(&[Row::new(HERE.arch, HERE.os, Status::Experimental)]);

/// This machine's architecture, stable, but on an OS that no test host runs.
pub const STABLE_ON_ANOTHER_OS: Matrix = Matrix::new(&[Row::new(HERE.arch, Os::Aix, Status::Stable)]);

/// What every fixture prints first: seeing it means the program's own code ran.
pub const USER_CODE_RAN: &str = "user code ran";
