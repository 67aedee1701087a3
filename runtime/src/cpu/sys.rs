// What the CPU refusal needs of the system, from the C library: writing to stderr, exiting, the
// program's file name, and the auxiliary vector and image base the other files read. Not std's: LTO
// recompiles std with the build's raised flags, and this code runs on a CPU that lacks them; the C
// library is the system's own, built for the baseline. Every `unsafe` item here says why it is sound.

use super::rows::next;
#[cfg(any(unix, windows))]
use super::sink::BUFFER;
use super::sink::{Sink, UNNAMED_PROGRAM};

#[cfg(unix)]
#[allow(unsafe_code)] // Declarations only; each call below says why it is sound.
mod c {
    /// `struct pollfd`, the same on every Unix.
    #[repr(C)]
    pub(super) struct PollFd {
        pub(super) fd: i32,
        pub(super) events: i16,
        pub(super) revents: i16,
    }
    /// `nfds_t`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(super) type Nfds = core::ffi::c_ulong;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(super) type Nfds = core::ffi::c_uint;

    unsafe extern "C" {
        pub(super) fn write(fd: i32, buf: *const u8, count: usize) -> isize;
        // Exiting ends the process: nothing to break, as with `std::process::exit`.
        pub(super) safe fn exit(status: i32) -> !;
        // `sighandler_t` is a pointer-sized value on every Unix: `SIG_IGN` is 1.
        pub(super) fn signal(signal: i32, handler: usize) -> usize;
        pub(super) fn poll(fds: *mut PollFd, count: Nfds, timeout_ms: i32) -> i32;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    unsafe extern "C" {
        // Returns a value of the auxiliary vector, or 0: it reads no memory of the caller's.
        pub(super) safe fn getauxval(kind: core::ffi::c_ulong) -> core::ffi::c_ulong;
    }
}

#[cfg(windows)]
#[allow(unsafe_code)] // Declarations only; each call below says why it is sound.
mod c {
    use core::ffi::c_void;

    // Kernel32's, as std writes to the console and pipes: no C runtime text mode turning `\n` into
    // `\r\n`, so the bytes are the ones a refusal in `main` writes.
    #[link(name = "kernel32")]
    unsafe extern "system" {
        // Returns a handle (or an invalid one) and touches no memory of the caller's.
        pub(super) safe fn GetStdHandle(which: u32) -> *mut c_void;
        // With a null name: the executable's module, its image's base address. Reads no memory.
        pub(super) fn GetModuleHandleW(name: *const u16) -> *mut c_void;
        pub(super) fn WriteFile(
            file: *mut c_void,
            buffer: *const u8,
            length: u32,
            written: *mut u32,
            overlapped: *mut c_void,
        ) -> i32;
    }
    unsafe extern "C" {
        // Exiting ends the process: nothing to break, as with `std::process::exit`.
        pub(super) safe fn exit(status: i32) -> !;
    }
}

/// Writes `bytes[..len]` to stderr, as few writes as the system takes (one, for a refusal under
/// `PIPE_BUF`, which a pipe then delivers whole). Errors are ignored: the exit code must be the
/// gate's, whatever happened to stderr. On Unix, SIGPIPE is ignored first, as std does before
/// `main` (this runs before std starts): a pipe or socket whose reader has gone fails the write
/// with `EPIPE` instead of killing the process, which a supervisor would take for a crash. And a
/// write waits for stderr to accept it for at most [`STDERR_PATIENCE_MS`] at a time, never
/// forever: a full pipe whose reader does not read, or a stopped terminal, loses the message, not
/// the exit code.
#[cfg(any(unix, windows))]
pub(super) fn write_stderr(bytes: &[u8; BUFFER], len: usize) {
    #[cfg(unix)]
    ignore_sigpipe();
    let len = if len < BUFFER { len } else { BUFFER };
    let mut written = 0;
    let mut attempts = 0;
    while written < len && attempts < WRITE_ATTEMPTS {
        attempts = next(attempts);
        let at = bytes.as_ptr().wrapping_add(written);
        let count = len - written;
        #[cfg(unix)]
        if !stderr_accepts() {
            return;
        }
        // SAFETY: `at` points at `count` initialised bytes of `bytes` (`written < len <= BUFFER`),
        // which outlives the call; `write` only reads them.
        #[cfg(unix)]
        #[allow(unsafe_code)]
        let result = unsafe { c::write(2, at, count) };
        #[cfg(windows)]
        let result = write_file(at, count);
        if result <= 0 {
            return;
        }
        written += result as usize;
    }
}

/// How long a refusal before std starts waits, at most, for stderr to accept each write.
#[cfg(unix)]
const STDERR_PATIENCE_MS: i32 = 1000;

/// How many writes a refusal makes at most: a reader that takes the message a few bytes at a
/// time does not hold the process for longer than this many [`STDERR_PATIENCE_MS`].
#[cfg(any(unix, windows))]
const WRITE_ATTEMPTS: usize = 8;

/// `SIGPIPE`'s number where it is 13 (Linux on every architecture, the BSDs, macOS, illumos);
/// `None` on another Unix, where the refusal leaves SIGPIPE as it is.
#[cfg(unix)]
const SIGPIPE: Option<i32> = if cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
    target_os = "illumos",
    target_os = "solaris"
)) {
    Some(13)
} else {
    None
};

/// Sets SIGPIPE's disposition to "ignore", as std does before `main`: the process ends right
/// after the write, by `exit`, so no code of the program runs with it changed.
#[cfg(unix)]
fn ignore_sigpipe() {
    const SIG_IGN: usize = 1;
    if let Some(sigpipe) = SIGPIPE {
        // SAFETY: `SIG_IGN` installs no handler, so no code runs on the signal; `signal` touches no
        // memory of the caller's.
        #[allow(unsafe_code)]
        let _ = unsafe { c::signal(sigpipe, SIG_IGN) };
    }
}

/// Whether stderr accepts a write within [`STDERR_PATIENCE_MS`] (`poll` says `POLLOUT`): on a Linux pipe,
/// room for a write of up to `PIPE_BUF` bytes, which then does not block. Not where it is closed,
/// has no reader (`POLLERR`), or stays full.
#[cfg(unix)]
fn stderr_accepts() -> bool {
    const POLLOUT: i16 = 4;
    let mut stderr = c::PollFd { fd: 2, events: POLLOUT, revents: 0 };
    // SAFETY: `stderr` is one valid `pollfd` for the call to fill in, and outlives it.
    #[allow(unsafe_code)]
    let ready = unsafe { c::poll(&mut stderr, 1, STDERR_PATIENCE_MS) };
    ready == 1 && stderr.revents & POLLOUT != 0
}

/// Windows' `WriteFile` on the standard error handle: the bytes written, or -1.
#[cfg(windows)]
fn write_file(at: *const u8, count: usize) -> isize {
    const STD_ERROR_HANDLE: u32 = -12_i32 as u32;
    let handle = c::GetStdHandle(STD_ERROR_HANDLE);
    if handle.is_null() || handle as isize == -1 {
        return -1; // No stderr (a GUI process), or an invalid handle.
    }
    let mut done: u32 = 0;
    // SAFETY: `handle` is this process's stderr handle; `at` points at `count` initialised bytes
    // (see `write_stderr`), `count` is at most `BUFFER`, so it fits a `u32`; `done` is a valid
    // `u32` for the call to write; no overlapped I/O.
    #[allow(unsafe_code)]
    let ok = unsafe { c::WriteFile(handle, at, count as u32, &mut done, core::ptr::null_mut()) };
    if ok == 0 { -1 } else { done as isize }
}

/// Ends the process with `code`, through the C library's `exit`.
#[cfg(any(unix, windows))]
pub(super) fn exit(code: i32) -> ! {
    c::exit(code)
}

#[cfg(not(any(unix, windows)))]
pub(super) fn write_stderr(_: &[u8; super::sink::BUFFER], _: usize) {}

#[cfg(not(any(unix, windows)))]
pub(super) fn exit(code: i32) -> ! {
    std::process::exit(code)
}

/// Whether [`write_program_file_name`] names the file.
pub(crate) const NAMES_PROGRAM_FILE: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// Writes the file name this program was started by (`kvd` for `/usr/bin/kvd`), from the path
/// the kernel passed in the auxiliary vector (`AT_EXECFN`), as printable ASCII (any other byte as
/// `?`); "this program" where the system does not say. Byte by byte from the C string, without
/// `CStr` or a slice, whose debug checks use `popcnt`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) fn write_program_file_name(out: &mut impl Sink) {
    const AT_EXECFN: core::ffi::c_ulong = 31;
    // Paths longer than this are cut: Linux's own limit is 4,096 bytes.
    const LONGEST: usize = 4096;
    let path = c::getauxval(AT_EXECFN) as usize as *const u8;
    if path.is_null() {
        out.text(UNNAMED_PROGRAM);
        return;
    }
    // SAFETY (both reads): `AT_EXECFN` is the address of the NUL-terminated path the program was
    // executed by, which the kernel writes onto the initial stack, where it stays, unchanged, for
    // the life of the process; every index read is at most the one of its NUL.
    #[allow(unsafe_code)]
    let byte_at = |i: usize| unsafe { *path.wrapping_add(i) };
    let mut start = 0;
    let mut end = 0;
    while end < LONGEST && byte_at(end) != 0 {
        if byte_at(end) == b'/' {
            start = end + 1;
        }
        end = next(end);
    }
    if start == end {
        out.text(UNNAMED_PROGRAM);
        return;
    }
    let mut i = start;
    while i < end {
        out.printable(byte_at(i));
        i = next(i);
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) fn write_program_file_name(out: &mut impl Sink) {
    out.text(UNNAMED_PROGRAM);
}

/// A value of the auxiliary vector the kernel passed the program (`getauxval`), or 0.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) fn auxval(kind: core::ffi::c_ulong) -> core::ffi::c_ulong {
    c::getauxval(kind)
}

/// The address the executable's image is loaded at (its module handle), or 0.
#[cfg(windows)]
pub(super) fn executable_base() -> usize {
    // SAFETY: with a null name, `GetModuleHandleW` returns the executable's module and reads no
    // memory of the caller's; it takes no reference count.
    #[allow(unsafe_code)]
    let module = unsafe { c::GetModuleHandleW(core::ptr::null()) };
    module as usize
}

/// `AT_HWCAP` and `AT_HWCAP2`: what the kernel says this CPU has.
#[cfg(all(target_arch = "aarch64", any(target_os = "linux", target_os = "android")))]
pub(super) fn hwcaps() -> (u64, u64) {
    const AT_HWCAP: core::ffi::c_ulong = 16;
    const AT_HWCAP2: core::ffi::c_ulong = 26;
    (c::getauxval(AT_HWCAP), c::getauxval(AT_HWCAP2))
}
