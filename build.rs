//! Rebuild when the embedded rule pack or the catalog changes (include_dir! alone does not tell
//! cargo to watch new files).
fn main() {
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=data");
    println!("cargo:rerun-if-changed=fixtures");
}
