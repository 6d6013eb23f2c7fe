//! Embeds `htdocs/` into the image as a read-only KV store.

fn main() {
    if let Err(e) = morgana_kv::build::embed_dir("htdocs", "htdocs.rs") {
        panic!("embedding htdocs: {e}");
    }
}
