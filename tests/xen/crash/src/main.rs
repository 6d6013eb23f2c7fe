//! Ends badly on purpose: a panic by default, or with `--trap` a page fault (a read above the
//! 4 GiB the backend maps). Either way the run must end as crashed with the abort status (255)
//! and a report on the console.
#![cfg_attr(not(test), no_std, no_main)]

use morgana::BootArgs;

morgana::main!(app);

/// An address no page table entry maps: the backend identity-maps the first 4 GiB only.
const UNMAPPED: usize = 0x40_0000_0000;

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let trap = args.flag("trap")?;
    args.finish()?;
    if trap {
        morgana::println!("about to fault");
        // SAFETY: this read is meant to fault: the backend's trap handler reports it and ends
        // the domain, so no value is ever produced from unmapped memory.
        let value = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
        morgana::println!("read {value} from an unmapped address");
        return Ok(());
    }
    morgana::println!("about to panic");
    panic!("deliberate panic from xen-crash");
}
