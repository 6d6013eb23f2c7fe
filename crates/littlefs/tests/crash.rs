//! Crash injection: a sequence of `set`/`remove`/`rename` is cut at every device write of
//! every operation in turn (the cut write torn in half). Each time the disk, mounted again,
//! holds exactly the state before the cut operation or after it, so every earlier completed
//! operation too.

mod common;

use std::collections::BTreeMap;

use common::{MemDisk, clock, now, values};
use morgana_kv::{KvRead, KvWrite};
use morgana_littlefs::LittleFs;

#[derive(Clone)]
enum Op {
    Set(&'static str, Vec<u8>),
    Remove(&'static str),
    Rename(&'static str, &'static str),
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Set(k, v) => write!(f, "set {k} ({} bytes)", v.len()),
            Op::Remove(k) => write!(f, "remove {k}"),
            Op::Rename(a, b) => write!(f, "rename {a} to {b}"),
        }
    }
}

type Model = BTreeMap<String, Vec<u8>>;

fn under(key: &str, k: &str) -> bool {
    k == key || k.starts_with(&format!("{key}/"))
}

fn apply_model(m: &Model, op: &Op) -> Model {
    let mut m = m.clone();
    match op {
        Op::Set(k, v) => {
            m.insert((*k).into(), v.clone());
        }
        Op::Remove(key) => m.retain(|k, _| !under(key, k)),
        Op::Rename(from, to) => {
            let moved: Vec<(String, Vec<u8>)> = m
                .iter()
                .filter(|(k, _)| under(from, k))
                .map(|(k, v)| (format!("{to}{}", &k[from.len()..]), v.clone()))
                .collect();
            m.retain(|k, _| !under(from, k));
            m.extend(moved);
        }
    }
    m
}

async fn apply(store: &mut LittleFs<MemDisk>, op: &Op) -> Result<(), morgana_kv::KvError> {
    match op {
        Op::Set(k, v) => store.set(k, v).await,
        Op::Remove(k) => store.remove(k).await,
        Op::Rename(f, t) => store.rename(f, t).await,
    }
}

fn ops() -> Vec<Op> {
    let big = |seed: u8, len: usize| -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    };
    vec![
        Op::Set("a", b"first".to_vec()),
        Op::Set("d/x", b"inline value".to_vec()),
        Op::Set("d/y", big(1, 10_000)),
        Op::Set("d/sub/z", big(2, 5_000)),
        Op::Set("a", big(3, 6_000)),
        Op::Rename("d/x", "e/moved"),
        Op::Rename("d", "f"),
        Op::Set("f/y", b"replaced a big value with a small one".to_vec()),
        Op::Remove("f"),
        Op::Rename("a", "e/moved"),
        Op::Set("g", Vec::new()),
        Op::Remove("e"),
    ]
}

/// Keys with value lengths: a readable account of a state.
fn summary(m: &Model) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}({}) ", v.len()))
        .collect()
}

fn remount(bytes: Vec<u8>, sector: u32) -> Model {
    let disk = MemDisk::from_bytes(bytes, sector, false);
    let mut store = LittleFs::mount(disk, "storage", clock).expect("a cut disk still mounts");
    values(&mut store)
}

#[test]
fn every_cut_leaves_the_state_before_or_after_the_operation() {
    for sector in [512, 4096] {
        cut_every_write(sector);
    }
}

fn cut_every_write(sector: u32) {
    let mut disk = MemDisk::new(64 * 4096, sector);
    disk.bytes.fill(0);
    let store = LittleFs::format(disk, "storage", clock).expect("format");
    let mut image = store.device().bytes.clone();
    drop(store);
    let mut model = Model::new();
    let mut cuts = 0;
    for (i, op) in ops().iter().enumerate() {
        let after = apply_model(&model, op);
        // An uncut run gives the next image and the operation's number of writes.
        let mut store = LittleFs::mount(
            MemDisk::from_bytes(image.clone(), sector, false),
            "s",
            clock,
        )
        .expect("mount");
        let start = store.device().writes.get();
        now(apply(&mut store, op)).unwrap_or_else(|e| panic!("op {i} {op:?}: {e}"));
        let writes = store.device().writes.get() - start;
        assert!(writes > 0, "op {i} wrote nothing");
        assert_eq!(values(&mut store), after, "op {i} {op:?} uncut");
        let next_image = store.device().bytes.clone();
        drop(store);

        for cut in 0..writes {
            let mut store = LittleFs::mount(
                MemDisk::from_bytes(image.clone(), sector, false),
                "s",
                clock,
            )
            .expect("mount");
            let base = store.device().writes.get();
            store.device().cut_at.set(Some(base + cut));
            let result = now(apply(&mut store, op));
            assert!(result.is_err(), "op {i} cut at write {cut} still succeeded");
            let bytes = store.device().bytes.clone();
            drop(store);
            let state = remount(bytes, sector);
            assert!(
                state == model || state == after,
                "op {i} {op:?} cut at write {cut}/{writes}: neither before nor after: {}",
                summary(&state)
            );
            cuts += 1;
        }
        model = after;
        image = next_image;
    }
    assert!(cuts >= 50, "only {cuts} cuts were tried");
}

#[test]
fn a_value_larger_than_the_free_space_leaves_the_old_content() {
    let disk = MemDisk::new(8 * 4096, 512);
    let mut store = LittleFs::format(disk, "storage", clock).expect("format");
    now(store.set("keep", b"old")).unwrap();
    now(store.set("big", b"small")).unwrap();
    let err = now(store.set("big", &vec![7u8; 64 * 1024])).unwrap_err();
    assert_eq!(err.to_string(), "no space left for 'big'");
    assert_eq!(now(store.get("big")).unwrap(), b"small");
    assert_eq!(now(store.get("keep")).unwrap(), b"old");
    now(store.set("after", b"still usable")).unwrap();
    let bytes = store.device().bytes.clone();
    drop(store);
    let state = remount(bytes, 512);
    assert_eq!(state.len(), 3);
    assert_eq!(state["big"], b"small");
}

#[test]
fn a_move_between_dictionaries_cut_half_way_hides_nothing_else() {
    let mut store = LittleFs::format(MemDisk::new(16 * 4096, 512), "s", clock).unwrap();
    for (k, v) in [("d/x", "xx"), ("d/y", "yy"), ("d/sub/z", "zz")] {
        now(store.set(k, v.as_bytes())).unwrap();
    }
    let image = store.device().bytes.clone();
    drop(store);
    // Write 3 of the rename is the commit that takes d/x out of d, after e/moved exists.
    let mut store = LittleFs::mount(MemDisk::from_bytes(image, 512, false), "s", clock).unwrap();
    let base = store.device().writes.get();
    store.device().cut_at.set(Some(base + 3));
    assert!(now(store.rename("d/x", "e/moved")).is_err());
    let state = remount(store.device().bytes.clone(), 512);
    let keys: Vec<&str> = state.keys().map(String::as_str).collect();
    assert_eq!(keys, ["d/sub/z", "d/y", "e/moved"]);
}
