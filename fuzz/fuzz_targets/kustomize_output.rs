#![no_main]
//! `kustomize build` output placed at its source files: no input may panic or hang.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = isms_lint::fuzzing::kustomize_output(text);
    }
});
