//! The `xen` target: a Xen PVH image (`TARGET_DIR/xen/PROFILE/NAME.xen`) and its xl config
//! (`NAME.xl` next to it), built as every bare-metal target is ([`crate::baremetal`]).
//!
//! The xl config's `vif` and `disk` lines come from the devices the application declares,
//! which the image carries in its `.morgana.devices` section (format: `morgana_xen_abi::devices`).

use std::path::{Path, PathBuf};

use morgana_xen_abi::devices::{self as abi, DeviceLine};
pub use morgana_xen_abi::devices::{DecodeError, DeviceKind};

use crate::baremetal::{self, Float, XEN};
use crate::{Error, Profile, Result, Workspace, io_error};

/// The target JSON's name (without `.json`), also cargo's directory for its artifacts.
pub const TARGET_NAME: &str = XEN.name;
/// Memory given to a guest by the generated xl config, MiB.
pub const DEFAULT_MEMORY_MIB: u32 = 32;

/// A device declared by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredDevice {
    /// What kind of device it is.
    pub kind: DeviceKind,
    /// The device's name.
    pub name: String,
}

/// Builds `package` for Xen; returns the image path (`TARGET_DIR/xen/PROFILE/NAME.xen`), next to which
/// `NAME.xl` is written.
pub fn build(ws: &Workspace, package: &str, profile: Profile) -> Result<PathBuf> {
    build_in(ws, &ws.target_dir(), package, profile, Float::Hard)
}

/// [`build`] with an explicit cargo target directory and float mode.
pub fn build_in(
    ws: &Workspace,
    target_dir: &Path,
    package: &str,
    profile: Profile,
    float: Float,
) -> Result<PathBuf> {
    let image = baremetal::xen(float).build_image(ws, target_dir, package, profile)?;
    let devices = read_devices(&image)?;
    let xl = image.with_extension("xl");
    let text = xl_config(&XlConfig {
        name: package,
        kernel: &image,
        memory_mib: DEFAULT_MEMORY_MIB,
        devices: &devices,
        extra: &[],
        lab: false,
        float,
    });
    std::fs::write(&xl, text).map_err(|e| io_error(&xl, e))?;
    Ok(image)
}

/// What an xl config is made of.
#[derive(Debug)]
pub struct XlConfig<'a> {
    /// The domain's name.
    pub name: &'a str,
    /// The image.
    pub kernel: &'a Path,
    /// Memory, MiB.
    pub memory_mib: u32,
    /// The application's devices.
    pub devices: &'a [DeclaredDevice],
    /// The command line (the application's arguments).
    pub extra: &'a [String],
    /// For the lab: keep the domain after it stops (so its status can be read), and use the
    /// lab's hotplug scripts, vif address and loop disks.
    pub lab: bool,
    /// The image's float mode: a soft-float image is shown no SIMD feature in CPUID.
    pub float: Float,
}

/// The CPUID features hidden from a soft-float image (libxl's names): every vector extension,
/// so that code choosing SIMD by run-time detection picks its portable path.
pub const SOFT_FLOAT_HIDDEN: &[&str] = &[
    "mmx", "sse", "sse2", "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "aes",
    "xsave",
];

/// The xl config text for `c`.
pub fn xl_config(c: &XlConfig<'_>) -> String {
    let keep = if c.lab { "preserve" } else { "destroy" };
    let mut s = format!(
        "# xl config for the Morgana unikernel {name}\n\
         name = \"{name}\"\n\
         type = \"pvh\"\n\
         kernel = \"{kernel}\"\n\
         memory = {mem}\n\
         vcpus = 1\n\
         on_poweroff = \"{keep}\"\n\
         on_crash = \"{keep}\"\n\
         on_reboot = \"destroy\"\n",
        name = c.name,
        kernel = c.kernel.display(),
        mem = c.memory_mib,
    );
    if c.float == Float::Soft {
        let hidden: Vec<String> = SOFT_FLOAT_HIDDEN.iter().map(|f| format!("{f}=0")).collect();
        s.push_str(&format!("cpuid = \"host,{}\"\n", hidden.join(",")));
    }
    if !c.extra.is_empty() {
        s.push_str(&format!(
            "extra = \"{}\"\n",
            c.extra.join(" ").replace('"', "'")
        ));
    }
    let nets: Vec<String> = c
        .devices
        .iter()
        .filter(|d| d.kind == DeviceKind::Net)
        .enumerate()
        .map(|(i, d)| {
            let mac = format!("00:16:3e:00:00:{:02x}", i + 1);
            if c.lab {
                format!("'mac={mac}, script=/etc/xen/scripts/morgana-vif'")
            } else {
                format!("'mac={mac}, bridge=xenbr0' # {}", d.name)
            }
        })
        .collect();
    if !nets.is_empty() {
        s.push_str(&format!("vif = [\n  {}\n]\n", nets.join(",\n  ")));
    }
    let disks: Vec<String> = c
        .devices
        .iter()
        .filter(|d| d.kind == DeviceKind::Block)
        .enumerate()
        .map(|(i, d)| {
            let vdev = format!("xvd{}", (b'a' + i as u8) as char);
            if c.lab {
                format!(
                    "'format=raw, vdev={vdev}, access=rw, script=/etc/xen/scripts/morgana-block, target=/dev/loop{i}'"
                )
            } else {
                format!(
                    "'format=raw, vdev={vdev}, access=rw, target={}-{}.img' # {}",
                    c.name, d.name, d.name
                )
            }
        })
        .collect();
    if !disks.is_empty() {
        s.push_str(&format!("disk = [\n  {}\n]\n", disks.join(",\n  ")));
    }
    s
}

/// Reads the devices an image declares from its `.morgana.devices` section (none when the
/// image has no such section).
pub fn read_devices(image: &Path) -> Result<Vec<DeclaredDevice>> {
    let bytes = std::fs::read(image).map_err(|e| io_error(image, e))?;
    let section = elf_section(&bytes, abi::SECTION)
        .ok_or_else(|| Error::Other(format!("{}: not an ELF64 image", image.display())))?;
    parse_devices(section.unwrap_or_default()).map_err(|e| {
        Error::Other(format!(
            "{}: malformed device list in {}: {e}",
            image.display(),
            abi::SECTION
        ))
    })
}

/// Parses a device list (the contents of the `.morgana.devices` section).
pub fn parse_devices(bytes: &[u8]) -> std::result::Result<Vec<DeclaredDevice>, DecodeError> {
    abi::decode(bytes)
        .map(|line| {
            line.map(|DeviceLine { kind, name }| DeclaredDevice {
                kind,
                name: name.to_string(),
            })
        })
        .collect()
}

/// The contents of section `name` of an ELF64 little-endian file: `None` when the file is not
/// one, `Some(None)` when it has no such section.
pub fn elf_section<'a>(elf: &'a [u8], name: &str) -> Option<Option<&'a [u8]>> {
    use object::LittleEndian as LE;
    use object::read::elf::{FileHeader as _, SectionHeader as _};
    let header = object::elf::FileHeader64::<LE>::parse(elf).ok()?;
    let sections = header.sections(LE, elf).ok()?;
    match sections.section_by_name(LE, name.as_bytes()) {
        Some((_, section)) => section.data(LE, elf).ok().map(Some),
        None => Some(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_lines_parse_and_refuse_junk() {
        let d = parse_devices(b"net:service\nblock:storage\n").unwrap();
        assert_eq!(
            d,
            [
                DeclaredDevice {
                    kind: DeviceKind::Net,
                    name: "service".to_string()
                },
                DeclaredDevice {
                    kind: DeviceKind::Block,
                    name: "storage".to_string()
                }
            ]
        );
        assert_eq!(parse_devices(b"").unwrap(), vec![]);
        assert_eq!(
            parse_devices(b"tape:x\n"),
            Err(DecodeError::UnknownKind { line: 1 })
        );
        assert_eq!(
            parse_devices(b"net\n"),
            Err(DecodeError::MissingColon { line: 1 })
        );
    }

    #[test]
    fn xl_config_lists_devices() {
        let devices = parse_devices(b"net:service\nblock:storage\n").unwrap();
        let text = xl_config(&XlConfig {
            name: "app",
            kernel: Path::new("app.xen"),
            memory_mib: 32,
            devices: &devices,
            extra: &["--a=1".to_string()],
            lab: true,
            float: Float::Soft,
        });
        assert!(text.contains(
            "cpuid = \"host,mmx=0,sse=0,sse2=0,sse3=0,ssse3=0,sse4_1=0,sse4_2=0,avx=0,avx2=0,fma=0,f16c=0,aes=0,xsave=0\"\n"
        ));
        assert!(text.contains("type = \"pvh\"\n"));
        assert!(text.contains("extra = \"--a=1\"\n"));
        assert!(text.contains("'mac=00:16:3e:00:00:01, script=/etc/xen/scripts/morgana-vif'"));
        // xl reads everything after `target=` as the target: it must come last.
        assert!(text.contains("script=/etc/xen/scripts/morgana-block, target=/dev/loop0'"));
        assert!(text.contains("on_poweroff = \"preserve\"\n"));
    }

    #[test]
    fn elf_reader_refuses_non_elf() {
        assert_eq!(elf_section(b"not an elf at all", ".x"), None);
        assert_eq!(elf_section(b"", ".x"), None);
    }
}
