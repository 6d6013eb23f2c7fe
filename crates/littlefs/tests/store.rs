//! The store's semantics over an in-memory device, and bad disks and keys: each is one clear
//! error, never a panic, never wrong data.

mod common;

use common::{MemDisk, clock, now, values};
use morgana_kv::{Kind, KvError, KvRead, KvWrite};
use morgana_littlefs::{LittleFs, OpenError};

fn fresh() -> LittleFs<MemDisk> {
    LittleFs::format(MemDisk::new(32 * 4096, 512), "storage", clock).expect("format")
}

#[test]
fn values_dictionaries_and_their_errors() {
    let mut s = fresh();
    now(s.set("a/b/c", b"v1")).unwrap();
    now(s.set("/a/top", b"t")).unwrap();
    assert_eq!(now(s.get("a/b/c")).unwrap(), b"v1");
    assert_eq!(now(s.exists("a/b")), Ok(Some(Kind::Dictionary)));
    assert_eq!(now(s.exists("a/b/c")), Ok(Some(Kind::Value)));
    assert_eq!(now(s.exists("nope")), Ok(None));
    assert_eq!(
        now(s.list("a")).unwrap(),
        [("b".into(), Kind::Dictionary), ("top".into(), Kind::Value)]
    );
    assert_eq!(now(s.size("a/b/c")), Ok(2));
    assert_eq!(now(s.last_modified("a/b/c")), Ok(clock()));
    let mut buf = [0u8; 8];
    assert_eq!(now(s.get_range("a/b/c", 1, &mut buf)), Ok(1));
    assert_eq!(buf[0], b'1');
    assert_eq!(now(s.get_range("a/b/c", 9, &mut buf)), Ok(0));
    assert_eq!(
        now(s.digest("a/top")).unwrap(),
        "e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8"
    );
    assert_eq!(now(s.get("a/b")), Err(KvError::ValueExpected("a/b".into())));
    assert_eq!(now(s.get("a/x")), Err(KvError::NotFound("a/x".into())));
    assert_eq!(
        now(s.set("a/b", b"x")),
        Err(KvError::ValueExpected("a/b".into()))
    );
    assert_eq!(
        now(s.set("a/top/under", b"x")),
        Err(KvError::DictionaryExpected("a/top".into()))
    );
    assert_eq!(now(s.exists("a/top/under")), Ok(None));
    assert_eq!(
        now(s.get("a/top/under")),
        Err(KvError::NotFound("a/top/under".into()))
    );
    assert_eq!(
        now(s.list("a/top")),
        Err(KvError::DictionaryExpected("a/top".into()))
    );
    now(s.rename("a/b", "z")).unwrap();
    assert_eq!(now(s.get("z/c")).unwrap(), b"v1");
    assert_eq!(
        now(s.rename("z", "z/inside")),
        Err(KvError::RenameIntoItself {
            from: "z".into(),
            to: "z/inside".into()
        })
    );
    assert_eq!(
        now(s.rename("gone", "x")),
        Err(KvError::NotFound("gone".into()))
    );
    now(s.set("a/top", b"replaced")).unwrap();
    now(s.rename("z/c", "a/top")).unwrap();
    assert_eq!(now(s.get("a/top")).unwrap(), b"v1");
    now(s.remove("a")).unwrap();
    now(s.remove("a")).unwrap();
    assert_eq!(now(s.exists("a")), Ok(None));
    now(s.set("k1", b"1")).unwrap();
    now(s.set("d/k2", b"2")).unwrap();
    now(s.remove("")).unwrap();
    assert_eq!(now(s.list("")).unwrap(), []);
}

#[test]
fn invalid_keys_are_refused_by_name() {
    let mut s = fresh();
    for bad in ["a//b", "a/../b", "x/", "a\u{1}set", "."] {
        let e = now(s.set(bad, b"x")).unwrap_err();
        assert!(
            matches!(&e, KvError::InvalidKey { key, .. } if key == bad),
            "{bad:?}: {e}"
        );
    }
    assert_eq!(
        now(s.get("a//b")).unwrap_err().to_string(),
        "invalid key 'a//b': it has an empty segment"
    );
    assert_eq!(values(&mut s).len(), 0);
}

#[test]
fn a_disk_without_littlefs_is_refused_and_left_untouched() {
    let disk = MemDisk::from_bytes(vec![0x5a; 16 * 4096], 512, false);
    let err = LittleFs::mount(disk, "storage", clock).unwrap_err();
    assert_eq!(
        err.to_string(),
        "storage: no littlefs file system on 'storage' (use --format to create one)"
    );
    let disk = MemDisk::from_bytes(vec![0; 16 * 4096], 512, false);
    let writes = disk.writes.clone();
    assert_eq!(
        LittleFs::mount(disk, "storage", clock).unwrap_err(),
        OpenError::NoFileSystem("storage".into())
    );
    assert_eq!(writes.get(), 0, "a failed mount wrote to the disk");
}

#[test]
fn odd_sized_and_read_only_disks() {
    let odd = MemDisk::from_bytes(vec![0; 4096 * 3 + 512], 512, false);
    assert_eq!(
        LittleFs::format(odd, "storage", clock)
            .unwrap_err()
            .to_string(),
        "storage: 'storage' cannot hold littlefs: 12800 bytes in sectors of 512 (need a multiple \
         of 4096 bytes, at least 8192, in sectors of at most 4096)"
    );
    let ro = MemDisk::from_bytes(vec![0; 8 * 4096], 512, true);
    assert_eq!(
        LittleFs::format(ro, "storage", clock)
            .unwrap_err()
            .to_string(),
        "storage: cannot format 'storage': the device is read-only"
    );
    let mut s = fresh();
    now(s.set("kept", b"value")).unwrap();
    let image = s.device().bytes.clone();
    drop(s);
    let ro = MemDisk::from_bytes(image.clone(), 512, true);
    let mut s = LittleFs::mount(ro, "storage", clock).expect("read-only mount");
    assert_eq!(now(s.get("kept")).unwrap(), b"value");
    assert_eq!(
        now(s.set("new", b"x")).unwrap_err().to_string(),
        "cannot change 'new': the store is read-only"
    );
    assert_eq!(now(s.remove("kept")), Err(KvError::ReadOnly("kept".into())));
    assert_eq!(s.device().bytes, image);
}

#[test]
fn flipped_bits_in_metadata_give_errors_or_right_data_never_wrong_data() {
    let mut s = fresh();
    // Small values are stored inline in metadata blocks, which littlefs checksums.
    let entries: Vec<(String, Vec<u8>)> = (0..12)
        .map(|i| (format!("dir{}/key{i}", i % 3), vec![b'a' + i as u8; 40 + i]))
        .collect();
    for (k, v) in &entries {
        now(s.set(k, v)).unwrap();
    }
    let image = s.device().bytes.clone();
    drop(s);
    let mut outcomes = [0usize; 3];
    for block in 0..8 {
        for at in (0..4096).step_by(97) {
            let mut bytes = image.clone();
            bytes[block * 4096 + at] ^= 0x10;
            let disk = MemDisk::from_bytes(bytes, 512, true);
            let Ok(mut s) = LittleFs::mount(disk, "storage", clock) else {
                outcomes[0] += 1;
                continue;
            };
            for (k, v) in &entries {
                match now(s.get(k)) {
                    Ok(got) => {
                        assert_eq!(&got, v, "block {block} byte {at}: wrong value for {k}");
                        outcomes[1] += 1;
                    }
                    Err(_) => outcomes[2] += 1,
                }
            }
        }
    }
    assert!(outcomes[1] > 0, "{outcomes:?}");
}
