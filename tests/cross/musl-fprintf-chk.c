/* For the x86_64-unknown-linux-musl target (run.sh): Debian's LLVM libunwind.a, which Rust's std
 * links for unwinding there, was built against glibc with _FORTIFY_SOURCE and so calls glibc's
 * __fprintf_chk, which musl does not have. This is that function, without the check: run.sh adds
 * it to its copy of libunwind.a. */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *stream, int flag, const char *format, ...) {
  (void)flag;
  va_list args;
  va_start(args, format);
  int written = vfprintf(stream, format, args);
  va_end(args);
  return written;
}
