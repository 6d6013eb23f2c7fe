//! The Xen ABI as this backend uses it: constants and `#[repr(C)]` structures, laid out exactly
//! as Xen's public headers define them for x86_64 (sizes and offsets are unit-tested).
//!
//! Units: a "frame" or "pfn" is a 4 KiB page number (physical address >> 12); Xen system time is
//! in nanoseconds since the domain's boot.

/// Size of a page, in bytes.
pub const PAGE_SIZE: usize = 4096;

/// Hypercall numbers (offset in the hypercall page = number * 32).
pub mod hypercall {
    /// `set_timer_op(deadline)`.
    pub const SET_TIMER_OP: usize = 15;
    /// `memory_op(cmd, arg)`.
    pub const MEMORY_OP: usize = 12;
    /// `xen_version(cmd, arg)`.
    pub const XEN_VERSION: usize = 17;
    /// `console_io(cmd, count, buffer)`.
    pub const CONSOLE_IO: usize = 18;
    /// `grant_table_op(cmd, arg, count)`.
    pub const GRANT_TABLE_OP: usize = 20;
    /// `sched_op(cmd, arg)`.
    pub const SCHED_OP: usize = 29;
    /// `event_channel_op(cmd, arg)`.
    pub const EVENT_CHANNEL_OP: usize = 32;
    /// `hvm_op(cmd, arg)`.
    pub const HVM_OP: usize = 34;
}

/// `console_io` command: write.
pub const CONSOLEIO_WRITE: usize = 0;

/// `sched_op` commands.
pub const SCHEDOP_YIELD: usize = 0;
/// Blocks until an event is pending.
pub const SCHEDOP_BLOCK: usize = 1;
/// Ends the domain with a [`SchedShutdown`] reason.
pub const SCHEDOP_SHUTDOWN: usize = 2;
/// Blocks until one of a set of ports is pending or a timeout passes ([`SchedPoll`]).
pub const SCHEDOP_POLL: usize = 3;

/// Shutdown reasons.
pub const SHUTDOWN_POWEROFF: u32 = 0;
/// The domain crashed.
pub const SHUTDOWN_CRASH: u32 = 3;

/// `event_channel_op` commands.
pub const EVTCHNOP_SEND: usize = 4;
/// Allocates a port another domain can bind ([`EvtchnAllocUnbound`]).
pub const EVTCHNOP_ALLOC_UNBOUND: usize = 6;

/// `hvm_op` command: read an HVM parameter ([`HvmParam`]).
pub const HVMOP_GET_PARAM: usize = 1;
/// HVM parameter: xenstore ring frame.
pub const HVM_PARAM_STORE_PFN: u32 = 1;
/// HVM parameter: xenstore event channel.
pub const HVM_PARAM_STORE_EVTCHN: u32 = 2;
/// HVM parameter: console ring frame.
pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;
/// HVM parameter: console event channel.
pub const HVM_PARAM_CONSOLE_EVTCHN: u32 = 18;

/// `memory_op` command: map a Xen-owned frame into our physical address space.
pub const XENMEM_ADD_TO_PHYSMAP: usize = 7;
/// `memory_op` command: the domain's E820 memory map (9; 10 is the machine map).
pub const XENMEM_MEMORY_MAP: usize = 9;
/// Map space of [`AddToPhysmap`]: the shared info page.
pub const XENMAPSPACE_SHARED_INFO: u32 = 0;
/// Map space of [`AddToPhysmap`]: a grant table frame.
pub const XENMAPSPACE_GRANT_TABLE: u32 = 1;

/// `xen_version` command: the version as `major << 16 | minor`.
pub const XENVER_VERSION: usize = 0;

/// Our own domain in hypercall arguments.
pub const DOMID_SELF: u16 = 0x7ff0;

/// Magic of [`HvmStartInfo`].
pub const HVM_START_MAGIC: u32 = 0x336e_c578;
/// ELF note type of the 32-bit PVH entry point (`XEN_ELFNOTE_PHYS32_ENTRY`).
pub const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
/// E820 type of usable RAM.
pub const E820_RAM: u32 = 1;

/// What the PVH loader passes in `%ebx`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct HvmStartInfo {
    /// [`HVM_START_MAGIC`].
    pub magic: u32,
    /// 0, or 1 when the memory map fields are present.
    pub version: u32,
    /// Flags (unused here).
    pub flags: u32,
    /// Number of boot modules.
    pub nr_modules: u32,
    /// Physical address of the module list.
    pub modlist_paddr: u64,
    /// Physical address of the NUL-terminated command line, or 0.
    pub cmdline_paddr: u64,
    /// Physical address of the ACPI RSDP, or 0.
    pub rsdp_paddr: u64,
    /// Physical address of the memory map (version 1).
    pub memmap_paddr: u64,
    /// Entries in the memory map (version 1).
    pub memmap_entries: u32,
    /// Reserved.
    pub reserved: u32,
}

/// One entry of the start info's memory map.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HvmMemmapEntry {
    /// Start, in bytes.
    pub addr: u64,
    /// Length, in bytes.
    pub size: u64,
    /// E820 type ([`E820_RAM`] for RAM).
    pub kind: u32,
    /// Reserved.
    pub reserved: u32,
}

/// One entry of `XENMEM_memory_map`'s E820 buffer (packed: 20 bytes).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, Default)]
pub struct E820Entry {
    /// Start, in bytes.
    pub addr: u64,
    /// Length, in bytes.
    pub size: u64,
    /// E820 type.
    pub kind: u32,
}

/// Argument of `XENMEM_memory_map`.
#[repr(C)]
#[derive(Debug)]
pub struct MemoryMap {
    /// In: capacity of `buffer` in entries; out: entries written.
    pub nr_entries: u32,
    /// Pointer to an array of [`E820Entry`].
    pub buffer: u64,
}

/// Argument of `XENMEM_add_to_physmap`.
#[repr(C)]
#[derive(Debug)]
pub struct AddToPhysmap {
    /// [`DOMID_SELF`].
    pub domid: u16,
    /// Pages in a range (unused).
    pub size: u16,
    /// `XENMAPSPACE_*`.
    pub space: u32,
    /// Index in the space (grant frame number).
    pub idx: u64,
    /// Where to map it: our physical frame number.
    pub gpfn: u64,
}

/// Argument of `HVMOP_get_param`.
#[repr(C)]
#[derive(Debug)]
pub struct HvmParam {
    /// [`DOMID_SELF`].
    pub domid: u16,
    /// `HVM_PARAM_*`.
    pub index: u32,
    /// Out: the value.
    pub value: u64,
}

/// Argument of `SCHEDOP_shutdown`.
#[repr(C)]
#[derive(Debug)]
pub struct SchedShutdown {
    /// `SHUTDOWN_*`.
    pub reason: u32,
}

/// Argument of `SCHEDOP_poll`.
#[repr(C)]
#[derive(Debug)]
pub struct SchedPoll {
    /// Pointer to an array of event channel ports (`u32`).
    pub ports: u64,
    /// Number of ports (at most 128).
    pub nr_ports: u32,
    /// Absolute Xen system time to give up at, in ns; 0 for none.
    pub timeout: u64,
}

/// Argument of `EVTCHNOP_send`.
#[repr(C)]
#[derive(Debug)]
pub struct EvtchnSend {
    /// The local port.
    pub port: u32,
}

/// Argument of `EVTCHNOP_alloc_unbound`.
#[repr(C)]
#[derive(Debug)]
pub struct EvtchnAllocUnbound {
    /// [`DOMID_SELF`].
    pub dom: u16,
    /// The domain allowed to bind the port.
    pub remote_dom: u16,
    /// Out: the new local port.
    pub port: u32,
}

/// The time record Xen keeps per vCPU (pvclock).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct VcpuTimeInfo {
    /// Odd while Xen updates the record.
    pub version: u32,
    /// Padding.
    pub pad0: u32,
    /// TSC at `system_time`.
    pub tsc_timestamp: u64,
    /// Xen system time at `tsc_timestamp`, ns.
    pub system_time: u64,
    /// TSC-to-ns multiplier, a 32.32 fixed-point fraction.
    pub tsc_to_system_mul: u32,
    /// Power-of-two shift applied to a TSC delta before multiplying.
    pub tsc_shift: i8,
    /// Flags.
    pub flags: u8,
    /// Padding.
    pub pad1: [u8; 2],
}

impl VcpuTimeInfo {
    /// Xen system time at TSC value `tsc`, in ns (integer arithmetic only).
    pub fn system_time_at(&self, tsc: u64) -> u64 {
        let delta = tsc.wrapping_sub(self.tsc_timestamp);
        let shifted = if self.tsc_shift >= 0 {
            delta << self.tsc_shift
        } else {
            delta >> -self.tsc_shift
        };
        let ns = ((u128::from(shifted) * u128::from(self.tsc_to_system_mul)) >> 32) as u64;
        self.system_time.wrapping_add(ns)
    }
}

/// Per-vCPU part of the shared info page.
#[repr(C)]
#[derive(Debug)]
pub struct VcpuInfo {
    /// An upcall is pending.
    pub evtchn_upcall_pending: u8,
    /// Upcalls are masked.
    pub evtchn_upcall_mask: u8,
    /// Padding.
    pub pad: [u8; 6],
    /// Which words of `evtchn_pending` to look at.
    pub evtchn_pending_sel: u64,
    /// x86: CR2 and padding.
    pub arch: [u64; 2],
    /// The pvclock.
    pub time: VcpuTimeInfo,
}

/// The shared info page (x86_64), mapped with [`XENMAPSPACE_SHARED_INFO`].
#[repr(C)]
#[derive(Debug)]
pub struct SharedInfo {
    /// Legacy per-vCPU records.
    pub vcpu_info: [VcpuInfo; 32],
    /// One pending bit per event channel port.
    pub evtchn_pending: [u64; 64],
    /// One mask bit per event channel port.
    pub evtchn_mask: [u64; 64],
    /// Odd while Xen updates the wall clock.
    pub wc_version: u32,
    /// Wall clock at system time 0: seconds (low 32 bits).
    pub wc_sec: u32,
    /// Wall clock at system time 0: nanoseconds.
    pub wc_nsec: u32,
    /// Wall clock at system time 0: seconds (high 32 bits).
    pub wc_sec_hi: u32,
}

/// The PV console ring page.
#[repr(C)]
#[derive(Debug)]
pub struct ConsoleInterface {
    /// Input ring.
    pub input: [u8; 1024],
    /// Output ring.
    pub output: [u8; 2048],
    /// Input consumer index.
    pub in_cons: u32,
    /// Input producer index.
    pub in_prod: u32,
    /// Output consumer index (xenconsoled).
    pub out_cons: u32,
    /// Output producer index (us).
    pub out_prod: u32,
}

/// The xenstore ring page.
#[repr(C)]
#[derive(Debug)]
pub struct XenstoreInterface {
    /// Request ring.
    pub req: [u8; 1024],
    /// Response ring.
    pub rsp: [u8; 1024],
    /// Request consumer index (xenstored).
    pub req_cons: u32,
    /// Request producer index (us).
    pub req_prod: u32,
    /// Response consumer index (us).
    pub rsp_cons: u32,
    /// Response producer index (xenstored).
    pub rsp_prod: u32,
}

/// A version 1 grant table entry.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct GrantEntryV1 {
    /// `GTF_*` flags; written last.
    pub flags: u16,
    /// The domain granted access.
    pub domid: u16,
    /// The granted frame.
    pub frame: u32,
}

/// Grant flag: access permitted.
pub const GTF_PERMIT_ACCESS: u16 = 1;
/// Grant flag: read-only access.
pub const GTF_READONLY: u16 = 4;
/// Grant references below this are reserved for the toolstack.
pub const GNTTAB_RESERVED_ENTRIES: u32 = 8;
/// Grant entries in one 4 KiB frame.
pub const GRANTS_PER_FRAME: usize = PAGE_SIZE / core::mem::size_of::<GrantEntryV1>();

/// Header of a shared request/response ring page; entries follow at offset 64.
#[repr(C)]
#[derive(Debug)]
pub struct SringHeader {
    /// Requests produced by the front end.
    pub req_prod: u32,
    /// The back end wants an event when `req_prod` passes this.
    pub req_event: u32,
    /// Responses produced by the back end.
    pub rsp_prod: u32,
    /// We want an event when `rsp_prod` passes this.
    pub rsp_event: u32,
    /// Private and padding bytes.
    pub pad: [u8; 48],
}

/// Block request operations.
pub const BLKIF_OP_READ: u8 = 0;
/// Write.
pub const BLKIF_OP_WRITE: u8 = 1;
/// Flush the disk cache.
pub const BLKIF_OP_FLUSH_DISKCACHE: u8 = 3;
/// Segments per block request.
pub const BLKIF_MAX_SEGMENTS: usize = 11;

/// One page-sized piece of a block request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct BlkifSegment {
    /// Grant of the data page.
    pub gref: u32,
    /// First 512-byte sector of the page used.
    pub first_sect: u8,
    /// Last 512-byte sector of the page used (inclusive).
    pub last_sect: u8,
    /// Padding.
    pub pad: u16,
}

/// A block request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct BlkifRequest {
    /// `BLKIF_OP_*`.
    pub operation: u8,
    /// Used entries of `seg`.
    pub nr_segments: u8,
    /// The virtual device handle.
    pub handle: u16,
    /// Padding.
    pub pad: u32,
    /// Echoed in the response.
    pub id: u64,
    /// Start, in 512-byte sectors.
    pub sector_number: u64,
    /// The data pages.
    pub seg: [BlkifSegment; BLKIF_MAX_SEGMENTS],
}

/// A block response.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct BlkifResponse {
    /// The request's id.
    pub id: u64,
    /// The request's operation.
    pub operation: u8,
    /// Padding.
    pub pad: u8,
    /// 0 success, negative error.
    pub status: i16,
}

/// A network transmit request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NetifTxRequest {
    /// Grant of the page holding the frame.
    pub gref: u32,
    /// Offset of the frame in the page.
    pub offset: u16,
    /// `NETTXF_*`.
    pub flags: u16,
    /// Echoed in the response.
    pub id: u16,
    /// Frame length, bytes.
    pub size: u16,
}

/// A network transmit response.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NetifTxResponse {
    /// The request's id.
    pub id: u16,
    /// `NETIF_RSP_*`: 0 is OK.
    pub status: i16,
}

/// A network receive request (an empty buffer for the back end).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NetifRxRequest {
    /// Echoed in the response.
    pub id: u16,
    /// Padding.
    pub pad: u16,
    /// Grant of the buffer page.
    pub gref: u32,
}

/// A network receive response.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NetifRxResponse {
    /// The request's id.
    pub id: u16,
    /// Offset of the frame in the page.
    pub offset: u16,
    /// `NETRXF_*`.
    pub flags: u16,
    /// Frame length if positive, error if negative.
    pub status: i16,
}

/// Receive flag: more fragments follow.
pub const NETRXF_MORE_DATA: u16 = 4;
/// Receive flag: an extra info slot follows.
pub const NETRXF_EXTRA_INFO: u16 = 8;

/// Xenbus states.
pub mod xenbus_state {
    /// Initialising.
    pub const INITIALISING: u32 = 1;
    /// Waiting for the peer's details.
    pub const INIT_WAIT: u32 = 2;
    /// Details published.
    pub const INITIALISED: u32 = 3;
    /// Connected.
    pub const CONNECTED: u32 = 4;
    /// Closing.
    pub const CLOSING: u32 = 5;
    /// Closed.
    pub const CLOSED: u32 = 6;
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn start_info_layout() {
        assert_eq!(size_of::<HvmStartInfo>(), 56);
        assert_eq!(offset_of!(HvmStartInfo, cmdline_paddr), 24);
        assert_eq!(offset_of!(HvmStartInfo, memmap_paddr), 40);
        assert_eq!(offset_of!(HvmStartInfo, memmap_entries), 48);
        assert_eq!(size_of::<HvmMemmapEntry>(), 24);
        assert_eq!(offset_of!(HvmMemmapEntry, kind), 16);
        assert_eq!(size_of::<E820Entry>(), 20);
        assert_eq!(size_of::<MemoryMap>(), 16);
        assert_eq!(offset_of!(MemoryMap, buffer), 8);
    }

    #[test]
    fn hypercall_argument_layouts() {
        assert_eq!(size_of::<AddToPhysmap>(), 24);
        assert_eq!(offset_of!(AddToPhysmap, space), 4);
        assert_eq!(offset_of!(AddToPhysmap, idx), 8);
        assert_eq!(offset_of!(AddToPhysmap, gpfn), 16);
        assert_eq!(size_of::<HvmParam>(), 16);
        assert_eq!(offset_of!(HvmParam, index), 4);
        assert_eq!(offset_of!(HvmParam, value), 8);
        assert_eq!(size_of::<SchedPoll>(), 24);
        assert_eq!(offset_of!(SchedPoll, nr_ports), 8);
        assert_eq!(offset_of!(SchedPoll, timeout), 16);
        assert_eq!(size_of::<SchedShutdown>(), 4);
        assert_eq!(size_of::<EvtchnAllocUnbound>(), 8);
        assert_eq!(offset_of!(EvtchnAllocUnbound, port), 4);
    }

    #[test]
    fn shared_info_layout() {
        assert_eq!(size_of::<VcpuTimeInfo>(), 32);
        assert_eq!(offset_of!(VcpuTimeInfo, tsc_to_system_mul), 24);
        assert_eq!(offset_of!(VcpuTimeInfo, tsc_shift), 28);
        assert_eq!(size_of::<VcpuInfo>(), 64);
        assert_eq!(offset_of!(VcpuInfo, evtchn_pending_sel), 8);
        assert_eq!(offset_of!(VcpuInfo, time), 32);
        assert_eq!(offset_of!(SharedInfo, evtchn_pending), 2048);
        assert_eq!(offset_of!(SharedInfo, evtchn_mask), 2560);
        assert_eq!(offset_of!(SharedInfo, wc_version), 3072);
        assert_eq!(offset_of!(SharedInfo, wc_sec), 3076);
        assert_eq!(offset_of!(SharedInfo, wc_nsec), 3080);
        assert_eq!(offset_of!(SharedInfo, wc_sec_hi), 3084);
        assert!(size_of::<SharedInfo>() <= PAGE_SIZE);
    }

    #[test]
    fn ring_page_layouts() {
        assert_eq!(offset_of!(ConsoleInterface, output), 1024);
        assert_eq!(offset_of!(ConsoleInterface, in_cons), 3072);
        assert_eq!(offset_of!(ConsoleInterface, out_cons), 3080);
        assert_eq!(offset_of!(ConsoleInterface, out_prod), 3084);
        assert_eq!(offset_of!(XenstoreInterface, rsp), 1024);
        assert_eq!(offset_of!(XenstoreInterface, req_cons), 2048);
        assert_eq!(offset_of!(XenstoreInterface, rsp_prod), 2060);
        assert_eq!(size_of::<SringHeader>(), 64);
        assert_eq!(size_of::<GrantEntryV1>(), 8);
        assert_eq!(GRANTS_PER_FRAME, 512);
    }

    #[test]
    fn device_ring_entry_layouts() {
        assert_eq!(size_of::<BlkifSegment>(), 8);
        assert_eq!(size_of::<BlkifRequest>(), 112);
        assert_eq!(offset_of!(BlkifRequest, handle), 2);
        assert_eq!(offset_of!(BlkifRequest, id), 8);
        assert_eq!(offset_of!(BlkifRequest, sector_number), 16);
        assert_eq!(offset_of!(BlkifRequest, seg), 24);
        assert_eq!(size_of::<BlkifResponse>(), 16);
        assert_eq!(offset_of!(BlkifResponse, status), 10);
        assert_eq!(size_of::<NetifTxRequest>(), 12);
        assert_eq!(offset_of!(NetifTxRequest, id), 8);
        assert_eq!(size_of::<NetifTxResponse>(), 4);
        assert_eq!(size_of::<NetifRxRequest>(), 8);
        assert_eq!(offset_of!(NetifRxRequest, gref), 4);
        assert_eq!(size_of::<NetifRxResponse>(), 8);
        assert_eq!(offset_of!(NetifRxResponse, status), 6);
    }

    #[test]
    fn pvclock_scales_with_integers() {
        // 2 GHz TSC: one tick is 0.5 ns, i.e. mul = 2^31 with no shift.
        let t = VcpuTimeInfo {
            tsc_timestamp: 1000,
            system_time: 5_000,
            tsc_to_system_mul: 1 << 31,
            tsc_shift: 0,
            ..Default::default()
        };
        assert_eq!(t.system_time_at(1000), 5_000);
        assert_eq!(t.system_time_at(3000), 6_000);
        let shifted = VcpuTimeInfo { tsc_shift: -1, ..t };
        assert_eq!(shifted.system_time_at(3000), 5_500);
        let up = VcpuTimeInfo { tsc_shift: 1, ..t };
        assert_eq!(up.system_time_at(3000), 7_000);
    }
}
