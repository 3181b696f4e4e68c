#![no_main]
//! Any text read as a file of the `helm` input (once per file-name pattern it claims), through
//! the same path a scan takes: no input may panic or hang.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = isms_lint::fuzzing::input("helm", text);
    }
});
