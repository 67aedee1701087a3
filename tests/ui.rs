//! Compile-fail cases, one per mistake, each with the error its `.stderr` snapshot pins (taken on
//! Rust 1.95); and forms that must compile.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
    cases.pass("ui/pass/*.rs");
}
