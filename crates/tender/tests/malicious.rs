//! Guests that misbehave: every one must end the tender with status 1 and one exact message,
//! never crash or hang it. Guest memory is 4 MiB (top = 0x400000).

mod support;

use morgana_testkit::{Prereq, require};
use support::image::{Asm, BLOCK, DATA, Data, Image, TEXT};
use support::{assert_fails_with, boot, scratch, stderr};

const TOP: u64 = 0x40_0000;

/// Runs `code` with `data`, expecting failure with `message`.
fn expect(name: &str, code: &Asm, data: &Data, message: &str) {
    let out = boot(&Image::new(code.finish(), data.bytes.clone()), &[]);
    assert!(
        out.stdout_bytes.is_empty(),
        "{name}: stdout {:?}",
        out.stdout
    );
    assert_fails_with(&out, message);
}

fn hc(n: u16, arg: u64) -> Asm {
    let mut a = Asm::new();
    a.hypercall(n, arg).hang();
    a
}

#[test]
fn struct_pointers_out_of_range() {
    require!(Prereq::Kvm);
    let d = Data::new();
    // Each hypercall's struct ending exactly at the top is refused (conservative rule).
    for (n, size) in [(1u16, 8u64), (2, 16), (3, 24), (8, 16)] {
        let gpa = TOP - size;
        expect(
            "struct_pointers_out_of_range",
            &hc(n, gpa),
            &d,
            &format!("Invalid guest access: gpa={gpa:#x}, sz={size}"),
        );
    }
    expect(
        "struct_pointers_out_of_range",
        &hc(1, 0xffff_ffff),
        &d,
        "Invalid guest access: gpa=0xffffffff, sz=8",
    );
    expect(
        "struct_pointers_out_of_range",
        &hc(2, TOP),
        &d,
        "Invalid guest access: gpa=0x400000, sz=16",
    );
}

#[test]
fn puts_data_pointer_and_length_abuse() {
    require!(Prereq::Kvm);
    let mut d = Data::new();
    d.u64s(0, &[0xffff_ffff_ffff_fff0, 0x20]) // overflowing pointer
        .u64s(0x40, &[DATA, u64::MAX]) // overflowing length
        .u64s(0x80, &[DATA, TOP - DATA]); // ends exactly at the top
    expect(
        "puts_data",
        &hc(2, DATA),
        &d,
        "Invalid guest access: gpa=0xfffffffffffffff0, sz=32",
    );
    expect(
        "puts_data",
        &hc(2, DATA + 0x40),
        &d,
        &format!("Invalid guest access: gpa={DATA:#x}, sz={}", u64::MAX),
    );
    expect(
        "puts_data",
        &hc(2, DATA + 0x80),
        &d,
        &format!("Invalid guest access: gpa={DATA:#x}, sz={}", TOP - DATA),
    );
}

#[test]
fn halt_cookie_at_the_top_of_memory() {
    require!(Prereq::Kvm);
    let mut d = Data::new();
    d.u64s(0, &[TOP - 256, 0]);
    expect(
        "halt_cookie",
        &hc(8, DATA),
        &d,
        &format!("Invalid guest access: gpa={:#x}, sz=512", TOP - 256),
    );
}

#[test]
fn bad_ports_and_numbers() {
    require!(Prereq::Kvm);
    let d = Data::new();
    let mut a = Asm::new();
    a.mov_eax(DATA as u32).mov_edx(0x509).out32().hang();
    expect(
        "bad_ports",
        &a,
        &d,
        "Invalid guest port access: port=0x509, size=4",
    );
    let mut a = Asm::new();
    a.mov_eax(DATA as u32).mov_edx(0x400).out32().hang();
    expect(
        "bad_ports",
        &a,
        &d,
        "Invalid guest port access: port=0x400, size=4",
    );
    let mut a = Asm::new();
    a.mov_eax(DATA as u32).mov_edx(0x502).out8().hang();
    expect(
        "bad_ports",
        &a,
        &d,
        "Invalid guest port access: port=0x502, size=1",
    );
    let mut a = Asm::new();
    a.mov_edx(0x501).in32().hang();
    expect(
        "bad_ports",
        &a,
        &d,
        "Invalid guest port access: port=0x501, size=4",
    );
    expect(
        "bad_ports",
        &hc(0, DATA),
        &d,
        "Invalid guest hypercall: num=0",
    );
    // Block and net calls are unregistered without such devices.
    expect(
        "bad_ports",
        &hc(4, DATA),
        &d,
        "Invalid guest hypercall: num=4",
    );
    expect(
        "bad_ports",
        &hc(7, DATA),
        &d,
        "Invalid guest hypercall: num=7",
    );
}

#[test]
fn write_into_text_is_a_translation_fault() {
    require!(Prereq::Kvm);
    let mut a = Asm::new();
    a.store_byte(TEXT, 0x90).hang();
    let out = boot(&Image::new(a.finish(), Data::new().bytes), &[]);
    // rip is the faulting instruction (EFAULT on hardware KVM) or, when the fault comes
    // back as an emulated MMIO exit (KVM-PVM), the one after it (8 bytes long).
    let at = format!("morgana-hvt: host/guest translation fault: rip={TEXT:#x}\n");
    let after = format!(
        "morgana-hvt: host/guest translation fault: rip={:#x}\n",
        TEXT + 8
    );
    let err = stderr(&out);
    assert!(err == at || err == after, "stderr: {err}");
    assert_eq!(out.code, Some(1));
}

#[test]
fn block_data_pointer_out_of_range() {
    require!(Prereq::Kvm);
    let disk = scratch("disk.img");
    std::fs::write(&disk, vec![0u8; 4096]).expect("disk");
    let opt = format!("--block:storage={}", disk.display());
    for (data, len) in [(TOP - 512, 512u64), (u64::MAX - 100, 512)] {
        let mut d = Data::new();
        d.u64s(0, &[1, 0, data, len, 0x55]);
        let image = Image::new(hc(5, DATA).finish(), d.bytes).with_devices(&[("storage", BLOCK)]);
        let out = boot(&image, &[&opt]);
        assert_fails_with(
            &out,
            &format!("Invalid guest access: gpa={data:#x}, sz={len}"),
        );
    }
    assert!(std::fs::read(&disk).expect("disk").iter().all(|&b| b == 0));
    // A handle that is not a block device is EINVAL, not fatal: halt with the ret (2).
    let mut d = Data::new();
    d.u64s(0, &[0, 0, DATA + 0x200, 512, 0x55])
        .u64s(0x40, &[0, 0]);
    let mut a = Asm::new();
    a.hypercall(4, DATA)
        .load_rax(DATA + 32)
        .store_rax(DATA + 0x48)
        .hypercall(8, DATA + 0x40)
        .hang();
    let out = boot(
        &Image::new(a.finish(), d.bytes).with_devices(&[("storage", BLOCK)]),
        &[&opt],
    );
    assert_eq!(out.code, Some(2), "{}", stderr(&out));
}
