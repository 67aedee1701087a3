// The gate: a program's name, its override variable, its matrix and its policy, and the one function
// that touches the process. Everything it decides comes from `decide`; here it is only read and acted on.

use std::borrow::Cow;
use std::io::Write as _;

use crate::names::cpu::BUILD_FLAGS;
use crate::names::{DERIVED_SUFFIX, derived_variable_byte, is_portable_variable_name};
use core::num::NonZeroU8;

use crate::cpu::{Refusal, Rows, refuse_cpu};
use crate::{Allow, Check, Matrix, Packager, Platform, Policy, Verdict, decide};

/// A program's platform gate. `#[platform_gated]` builds one in a `const` and enforces it first
/// thing in `main`; a program that wants the gate elsewhere can do the same by hand.
///
/// ```
/// use platform_gate::{Gate, Matrix};
///
/// const GATE: Gate = Gate::new("etcd", "ETCD_UNSUPPORTED_ARCH").with_matrix(Matrix::ETCD);
///
/// fn main() {
///     GATE.enforce(); // on a platform that does not pass, this prints and exits
///     // ... the program
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Gate {
    program: &'static str,
    variable: Variable,
    matrix: Matrix<'static>,
    policy: Policy<'static>,
    /// What a CPU refusal in `main` says of the program, kept ready in the gate so that the
    /// refusal reads it in place: copying it would use vector moves (see `cpu/refuse.rs`).
    cpu_refusal: Refusal<'static>,
}

/// Where the override variable's name comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Variable {
    Named(&'static str),
    /// `<PACKAGE>_UNSUPPORTED_ARCH`, derived when first needed: only off the fast path.
    FromPackage(&'static str),
}

impl Gate {
    /// A gate for `program` with override variable `variable`, etcd's matrix and etcd's policy,
    /// with the build's packager ([`Packager::FROM_BUILD`]).
    ///
    /// # Panics
    ///
    /// If `variable` is not a portable variable name (ASCII letters, digits and `_`, not starting
    /// with a digit), which some shell or supervisor could not set. In a `const` this is a compile
    /// error.
    #[inline]
    pub const fn new(program: &'static str, variable: &'static str) -> Gate {
        Gate::for_package(program, None).with_variable(variable)
    }

    /// A gate named after a Cargo package's binary (or the package, where there is no binary),
    /// with the variable derived from the package name (see [`Gate::variable_name`]), etcd's
    /// matrix and etcd's policy. `#[platform_gated]` starts from
    /// `Gate::for_package(env!("CARGO_PKG_NAME"), option_env!("CARGO_BIN_NAME"))`.
    #[inline]
    pub const fn for_package(package: &'static str, binary: Option<&'static str>) -> Gate {
        let program = match binary {
            Some(binary) => binary,
            None => package,
        };
        Gate {
            program,
            variable: Variable::FromPackage(package),
            matrix: Matrix::ETCD,
            policy: Policy::DEFAULT.with_packager(Packager::FROM_BUILD),
            cpu_refusal: Refusal::in_main(program, package, true),
        }
    }

    /// The gate with this override variable.
    ///
    /// # Panics
    ///
    /// As [`Gate::new`].
    #[inline]
    pub const fn with_variable(self, variable: &'static str) -> Gate {
        assert!(
            is_portable_variable_name(variable),
            "the override variable's name must be ASCII letters, digits and `_`, not starting with a digit"
        );
        Gate {
            variable: Variable::Named(variable),
            cpu_refusal: Refusal::in_main(self.program, variable, false),
            ..self
        }
    }

    /// The gate with this support matrix.
    #[inline]
    pub const fn with_matrix(self, matrix: Matrix<'static>) -> Gate {
        Gate { matrix, ..self }
    }

    /// The gate with this policy, in place of etcd's policy and the build's
    /// [`Packager::FROM_BUILD`].
    #[inline]
    pub const fn with_policy(self, policy: Policy<'static>) -> Gate {
        Gate { policy, ..self }
    }

    /// The gate with its policy's check set to `check`.
    #[inline]
    pub const fn with_check(self, check: Check) -> Gate {
        Gate { policy: self.policy.with_check(check), ..self }
    }

    /// The gate with its policy's lowest status that starts by itself set to `allow`.
    #[inline]
    pub const fn with_allow(self, allow: Allow) -> Gate {
        Gate { policy: self.policy.with_allow(allow), ..self }
    }

    /// The gate with its policy's exit code set to `exit_code`.
    #[inline]
    pub const fn with_exit_code(self, exit_code: NonZeroU8) -> Gate {
        Gate { policy: self.policy.with_exit_code(exit_code), ..self }
    }

    /// The name messages call the program by.
    #[inline]
    pub const fn program(&self) -> &'static str {
        self.program
    }

    /// The support matrix.
    #[inline]
    pub const fn matrix(&self) -> &Matrix<'static> {
        &self.matrix
    }

    /// The policy.
    #[inline]
    pub const fn policy(&self) -> Policy<'static> {
        self.policy
    }

    /// Where the override variable's name comes from, for `const` code (the manifest).
    #[inline]
    pub(crate) const fn variable(&self) -> Variable {
        self.variable
    }

    /// The override variable's name: as given, or `<PACKAGE>_UNSUPPORTED_ARCH` with the package
    /// name upper-cased and `-` turned into `_`.
    ///
    /// ```
    /// # use platform_gate::Gate;
    /// assert_eq!(Gate::for_package("my-server", None).variable_name(), "MY_SERVER_UNSUPPORTED_ARCH");
    /// ```
    pub fn variable_name(&self) -> Cow<'static, str> {
        match self.variable {
            Variable::Named(name) => Cow::Borrowed(name),
            Variable::FromPackage(package) => {
                let mut name: String =
                    package.bytes().map(|byte| char::from(derived_variable_byte(byte))).collect();
                name.push_str(DERIVED_SUFFIX);
                Cow::Owned(name)
            }
        }
    }

    /// Whether the platform this code was compiled for starts without consulting the variable.
    #[inline]
    pub const fn passes_by_itself(&self) -> bool {
        self.policy.passes(&self.matrix, Platform::CURRENT)
    }

    /// Enforces the gate on this process. On a platform that passes by itself it does nothing
    /// and reads nothing. Otherwise it reads the variable; on an override it prints a warning to
    /// stderr and returns; on a refusal it prints the error to stderr and exits with the policy's
    /// exit code. Write errors on stderr (closed, full, a broken pipe) are ignored, so the exit
    /// code is always the gate's. The environment is never written.
    ///
    /// First, where no check ran before std started (a platform without that hook), it checks
    /// that this CPU has what this crate was compiled to assume (see [`crate::CpuCheck`]); the
    /// attribute checks what `main`'s own crate assumed beyond that.
    #[inline]
    pub fn enforce(&self) {
        const LEFT: Rows = crate::cpu::left_for_main(&BUILD_FLAGS);
        if !LEFT.is_empty() {
            self.refuse_cpu_in_main(LEFT);
        }
        if !self.passes_by_itself() {
            self.enforce_outside_support();
        }
    }

    /// Refuses if this CPU lacks any of `assumed` (rows of this target's feature table), naming
    /// the program and its variable. Out of line and cold, and reads `self` in place: it runs on
    /// a CPU that may lack the instructions a copy of the gate would use (see `cpu/refuse.rs`).
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse_cpu_in_main(&self, assumed: Rows) {
        refuse_cpu(assumed, &self.cpu_refusal, self.policy.exit_code.get());
    }

    /// The path taken only off a supported platform: kept out of line so the fast path stays a
    /// single comparison, and marked cold so it stays out of the way of the program's code.
    #[cold]
    #[inline(never)]
    pub(crate) fn enforce_outside_support(&self) {
        let variable = self.variable_name();
        let value = std::env::var_os(&*variable);
        let verdict = decide(&self.matrix, self.policy, Platform::CURRENT, &variable, value.as_deref());
        if let Some(message) = verdict.message(self.program) {
            // Rendered first and written at once: a refusal is under PIPE_BUF (4 KiB), so on a
            // pipe shared with other writers it arrives whole or not at all, never interleaved.
            // A failed write must not turn a refusal into a panic's exit code 101.
            let text = format!("{message}\n");
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
        if let Verdict::Refused { .. } = verdict {
            std::process::exit(i32::from(self.policy.exit_code().get()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_variable_follows_the_package_name() {
        assert_eq!(Gate::for_package("etcd", Some("etcd")).variable_name(), "ETCD_UNSUPPORTED_ARCH");
        assert_eq!(Gate::for_package("my-kv_store", None).variable_name(), "MY_KV_STORE_UNSUPPORTED_ARCH");
        let named = Gate::for_package("etcd", None).with_variable("KV_ARCH_OPT_IN");
        assert_eq!(named.variable_name(), "KV_ARCH_OPT_IN");
    }

    #[test]
    fn the_program_is_the_binary_when_there_is_one() {
        assert_eq!(Gate::for_package("kv-server", Some("kvd")).program(), "kvd");
        assert_eq!(Gate::for_package("kv-server", None).program(), "kv-server");
    }

    #[test]
    fn variable_names_that_an_operator_cannot_set_are_rejected() {
        let _ = Gate::new("p", "ETCD_UNSUPPORTED_ARCH");
        for bad in ["", "A=B", "A\0B", "MY ARCH", "A\nB", "1ARCH"] {
            assert!(std::panic::catch_unwind(|| Gate::new("p", bad)).is_err(), "{bad:?}");
        }
    }
}
