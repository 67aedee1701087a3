// Where a CPU refusal is written: a `String` for the pure API, a fixed buffer on the refusal path,
// which may not allocate. Every byte goes through `black_box`, so the compiler cannot merge the
// stores into vector instructions the CPU may lack.

use super::rows::next;

/// The name a refusal before std starts uses where the system does not say the program's.
pub(crate) const UNNAMED_PROGRAM: &str = "this program";

/// Where a message is written.
pub(crate) trait Sink {
    fn byte(&mut self, byte: u8);

    /// `byte` if it is printable ASCII, else `?`: for names the operator did not write.
    fn printable(&mut self, byte: u8) {
        self.byte(if byte.is_ascii_graphic() || byte == b' ' { byte } else { b'?' });
    }

    fn text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            self.byte(bytes[i]);
            i = next(i);
        }
    }
}

impl Sink for String {
    fn byte(&mut self, byte: u8) {
        self.push(char::from(byte));
    }

    fn text(&mut self, text: &str) {
        self.push_str(text);
    }
}

/// The refusal's buffer: a fixed array and a count.
pub(crate) struct Buffer<'a> {
    pub(crate) bytes: &'a mut [u8; BUFFER],
    pub(crate) len: usize,
}

/// The refusal's longest text: under `PIPE_BUF`, so that a pipe delivers it whole.
pub(crate) const BUFFER: usize = 4096;

impl Sink for Buffer<'_> {
    fn byte(&mut self, byte: u8) {
        if self.len < BUFFER {
            self.bytes[self.len] = core::hint::black_box(byte);
            self.len += 1;
        }
    }
}
