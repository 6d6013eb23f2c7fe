//! Conformance `mft_maxdevices`: the most devices a manifest can hold (63, after the
//! reserved entry 0), all block devices `storage0` to `storage62`; acquires the first and the
//! last, prints `SUCCESS` and exits 0.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use morgana::block::BlockDevice;

morgana::main!(app, devices: {
    STORAGE0: block = "storage0",
    STORAGE1: block = "storage1",
    STORAGE2: block = "storage2",
    STORAGE3: block = "storage3",
    STORAGE4: block = "storage4",
    STORAGE5: block = "storage5",
    STORAGE6: block = "storage6",
    STORAGE7: block = "storage7",
    STORAGE8: block = "storage8",
    STORAGE9: block = "storage9",
    STORAGE10: block = "storage10",
    STORAGE11: block = "storage11",
    STORAGE12: block = "storage12",
    STORAGE13: block = "storage13",
    STORAGE14: block = "storage14",
    STORAGE15: block = "storage15",
    STORAGE16: block = "storage16",
    STORAGE17: block = "storage17",
    STORAGE18: block = "storage18",
    STORAGE19: block = "storage19",
    STORAGE20: block = "storage20",
    STORAGE21: block = "storage21",
    STORAGE22: block = "storage22",
    STORAGE23: block = "storage23",
    STORAGE24: block = "storage24",
    STORAGE25: block = "storage25",
    STORAGE26: block = "storage26",
    STORAGE27: block = "storage27",
    STORAGE28: block = "storage28",
    STORAGE29: block = "storage29",
    STORAGE30: block = "storage30",
    STORAGE31: block = "storage31",
    STORAGE32: block = "storage32",
    STORAGE33: block = "storage33",
    STORAGE34: block = "storage34",
    STORAGE35: block = "storage35",
    STORAGE36: block = "storage36",
    STORAGE37: block = "storage37",
    STORAGE38: block = "storage38",
    STORAGE39: block = "storage39",
    STORAGE40: block = "storage40",
    STORAGE41: block = "storage41",
    STORAGE42: block = "storage42",
    STORAGE43: block = "storage43",
    STORAGE44: block = "storage44",
    STORAGE45: block = "storage45",
    STORAGE46: block = "storage46",
    STORAGE47: block = "storage47",
    STORAGE48: block = "storage48",
    STORAGE49: block = "storage49",
    STORAGE50: block = "storage50",
    STORAGE51: block = "storage51",
    STORAGE52: block = "storage52",
    STORAGE53: block = "storage53",
    STORAGE54: block = "storage54",
    STORAGE55: block = "storage55",
    STORAGE56: block = "storage56",
    STORAGE57: block = "storage57",
    STORAGE58: block = "storage58",
    STORAGE59: block = "storage59",
    STORAGE60: block = "storage60",
    STORAGE61: block = "storage61",
    STORAGE62: block = "storage62",
});

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let first = morgana::block::acquire(STORAGE0)?;
    let last = morgana::block::acquire(STORAGE62)?;
    morgana::println!(
        "storage0: {} bytes, storage62: {} bytes",
        first.info().capacity,
        last.info().capacity
    );
    morgana::println!("SUCCESS");
    Ok(())
}
