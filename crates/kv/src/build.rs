//! Build-script side: embeds a directory tree into the program as a [`StaticKv`](crate::StaticKv).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// Writes `$OUT_DIR/<out_name>`: a `StaticKv` expression over every regular file under `dir`
/// (relative to the package's manifest directory), keyed by its `/`-separated path relative to
/// `dir`. Tells cargo to rerun the build script when anything under `dir` changes.
///
/// Fails on unreadable entries and on file names that are not UTF-8 or contain `"` or `\`.
pub fn embed_dir(dir: impl AsRef<Path>, out_name: &str) -> io::Result<PathBuf> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .ok_or_else(|| io::Error::other("CARGO_MANIFEST_DIR is not set: call from build.rs"))?;
    let out_dir = std::env::var_os("OUT_DIR")
        .ok_or_else(|| io::Error::other("OUT_DIR is not set: call from build.rs"))?;
    let root = Path::new(&manifest).join(dir);
    let out = Path::new(&out_dir).join(out_name);
    std::fs::write(&out, generate(&root)?)?;
    Ok(out)
}

/// The generated expression for the tree at `root` (also prints the rerun directives).
pub fn generate(root: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    collect(root, root, &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", root.display());
    let mut code = String::from("::morgana_kv::StaticKv::new(&[\n");
    for (key, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let path = path
            .to_str()
            .filter(|p| !p.contains(['"', '\\']))
            .ok_or_else(|| bad_name(path))?;
        let _ = writeln!(code, "    (\"{key}\", include_bytes!(\"{path}\")),");
    }
    code.push_str("])\n");
    Ok(code)
}

fn bad_name(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{}: file names must be UTF-8 without '\"' or '\\'",
            path.display()
        ),
    )
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, files)?;
        } else if kind.is_file() {
            let rel = path.strip_prefix(root).map_err(io::Error::other)?;
            let mut key = String::new();
            for part in rel.components() {
                let part = part.as_os_str().to_str().ok_or_else(|| bad_name(&path))?;
                if part.contains(['"', '\\']) {
                    return Err(bad_name(&path));
                }
                if !key.is_empty() {
                    key.push('/');
                }
                key.push_str(part);
            }
            files.push((key, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_sorted_entries_for_a_tree() {
        let root = std::env::temp_dir().join(format!("morgana-kv-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("css")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("css/site.css"), "y").unwrap();
        let code = generate(&root).unwrap();
        let lines: Vec<&str> = code.lines().collect();
        assert_eq!(lines.len(), 4, "{code}");
        assert!(lines[1].starts_with("    (\"css/site.css\", include_bytes!("));
        assert!(lines[2].starts_with("    (\"index.html\", include_bytes!("));
        std::fs::write(root.join("bad\"name"), "z").unwrap();
        assert!(generate(&root).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
