//! KVM setup: the VM with guest memory as slot 0, and one vCPU in the initial state of
//! spec 2.3 (long mode, paging on the tender's tables, CPUID passed through but for a
//! soft-float image, no IDT).

use crate::error::TenderError;
use crate::layout::{BOOT_INFO_BASE, GDT_BASE, GDT_LIMIT, PML4_BASE};
use crate::memory::GuestMemory;
use kvm_bindings::{KVM_MAX_CPUID_ENTRIES, kvm_segment, kvm_userspace_memory_region};
use kvm_ioctls::{Cap, Kvm, VcpuFd, VmFd};

const CR0_PE: u64 = 1;
const CR0_NE: u64 = 1 << 5;
const CR0_WP: u64 = 1 << 16;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;

/// An initialised VM with its single vCPU.
#[derive(Debug)]
pub struct Machine {
    /// Kept open for the lifetime of the guest.
    pub kvm: Kvm,
    /// The VM; guest memory is registered as slot 0.
    pub vm: VmFd,
    /// The one vCPU.
    pub vcpu: VcpuFd,
    /// TSC frequency in Hz, for the boot info.
    pub tsc_hz: u64,
}

fn kvm_err(what: &'static str) -> impl Fn(vmm_sys_util::errno::Error) -> TenderError {
    move |e| TenderError::Kvm(what, std::io::Error::from_raw_os_error(e.errno()))
}

/// Opens /dev/kvm, creates the VM and vCPU, registers `mem` and reads the TSC frequency. The
/// vCPU is shown KVM's supported CPUID set, without SIMD features for a `soft_float` image.
pub fn create(mem: &GuestMemory, soft_float: bool) -> Result<Machine, TenderError> {
    let kvm = Kvm::new().map_err(kvm_err("could not open /dev/kvm"))?;
    if kvm.get_api_version() != 12 {
        return Err(TenderError::KvmApi(kvm.get_api_version()));
    }
    if !kvm.check_extension(Cap::UserMemory) {
        return Err(TenderError::KvmCap("KVM_CAP_USER_MEMORY"));
    }
    let vm = kvm.create_vm().map_err(kvm_err("KVM_CREATE_VM"))?;
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: mem.size(),
        userspace_addr: mem.host_base(),
    };
    // SAFETY: the region is our own anonymous mapping of exactly `mem.size()` bytes, and
    // `mem` outlives every use of the VM (both live until the process exits).
    unsafe { vm.set_user_memory_region(region) }.map_err(kvm_err("KVM_SET_USER_MEMORY_REGION"))?;
    let vcpu = vm.create_vcpu(0).map_err(kvm_err("KVM_CREATE_VCPU"))?;
    let mut cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .map_err(kvm_err("KVM_GET_SUPPORTED_CPUID"))?;
    if soft_float {
        crate::cpuid::hide_simd(cpuid.as_mut_slice());
    }
    vcpu.set_cpuid2(&cpuid).map_err(kvm_err("KVM_SET_CPUID2"))?;
    let tsc_khz = vcpu.get_tsc_khz().map_err(|e| {
        if e.errno() == libc::EIO {
            TenderError::UnstableTsc
        } else {
            kvm_err("KVM_GET_TSC_KHZ")(e)
        }
    })?;
    Ok(Machine {
        kvm,
        vm,
        vcpu,
        tsc_hz: u64::from(tsc_khz) * 1000,
    })
}

fn segment(selector: u16, type_: u8, long: bool) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_,
        present: 1,
        dpl: 0,
        db: u8::from(!long),
        s: 1,
        l: u8::from(long),
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// Sets the special and general registers: entry at `entry`, stack at `mem_size - 8`,
/// `%rdi` = boot info address, interrupts off.
pub fn init_registers(vcpu: &VcpuFd, entry: u64, mem_size: u64) -> Result<(), TenderError> {
    let mut sregs = vcpu.get_sregs().map_err(kvm_err("KVM_GET_SREGS"))?;
    sregs.cr0 = CR0_PE | CR0_NE | CR0_WP | CR0_PG;
    sregs.cr3 = PML4_BASE;
    sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    sregs.efer = EFER_LME | EFER_LMA;
    sregs.cs = segment(0x08, 9, true);
    let data = segment(0x10, 3, false);
    (sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss) = (data, data, data, data, data);
    sregs.tr = kvm_segment {
        type_: 11,
        present: 1,
        limit: 0,
        ..kvm_segment::default()
    };
    sregs.ldt = kvm_segment {
        unusable: 1,
        ..kvm_segment::default()
    };
    sregs.gdt.base = GDT_BASE;
    sregs.gdt.limit = GDT_LIMIT;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    vcpu.set_sregs(&sregs).map_err(kvm_err("KVM_SET_SREGS"))?;
    let regs = kvm_bindings::kvm_regs {
        rip: entry,
        rsp: mem_size - 8,
        rdi: BOOT_INFO_BASE,
        rflags: 0x2,
        ..Default::default()
    };
    vcpu.set_regs(&regs).map_err(kvm_err("KVM_SET_REGS"))?;
    Ok(())
}
