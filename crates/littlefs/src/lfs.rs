//! The boundary with littlefs's C code: one heap-pinned state (the `lfs_t`, its configuration,
//! its buffers and the block device), the four callbacks littlefs calls, and safe methods for
//! the few operations the store needs. Every `unsafe` block of the crate is here.
//!
//! **Why polling the device inside a callback is sound.** littlefs calls `read`/`prog`/`sync`
//! synchronously from inside an `lfs_*` call, which the store makes from an `async` method
//! holding `&mut` to the store (so no other task can enter littlefs meanwhile, and littlefs is
//! never re-entered). The callback polls the device's future to completion right there
//! ([`complete`]): on unix (a file) and hvt (a hypercall) the future is ready on its first
//! poll; on Xen it is pending until the back end answers on the shared ring, and completion
//! depends only on the back end, never on another task of this unikernel, so blocking in the
//! platform's wait primitive (which sleeps in Xen until an event channel fires, then only
//! flags other tasks' wakers) until the future is ready cannot deadlock. Other tasks are
//! delayed for the length of one store operation, as with any synchronous call.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::{c_int, c_void};
use core::future::Future;
use core::pin::pin;
use core::ptr::{NonNull, addr_of_mut};
use core::task::{Context, Poll, Waker};

use littlefs2_sys as ll;
use morgana_block::{BlockDevice, BlockError};

/// littlefs block size in bytes: fixed, so host tools can be given the same geometry.
pub const BLOCK_SIZE: u32 = 4096;

/// Size of each cache (read, program, the open file's), in bytes: one littlefs block.
const CACHE_SIZE: u32 = BLOCK_SIZE;

/// Lookahead buffer size in bytes (each bit tracks one block).
const LOOKAHEAD_SIZE: u32 = 64;

/// Attribute type holding a value's last-modified time (`u64` ns since the epoch, LE).
const ATTR_MTIME: u8 = 0x74;

/// A littlefs error code (negative `LFS_ERR_*`).
pub type LfsError = i32;

/// What a path names, and the size of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// A regular file of this many bytes.
    File(u64),
    /// A directory.
    Dir,
}

/// Polls `future` until it is ready, sleeping in the platform's wait primitive while it is
/// pending. See the module documentation for why this is sound.
pub fn complete<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        morgana_rt::platform().wait(None);
    }
}

struct State<D> {
    lfs: ll::lfs_t,
    config: ll::lfs_config,
    device: D,
    /// The first device error since [`Lfs::take_device_error`].
    device_error: Option<BlockError>,
    read_buffer: Box<[u8]>,
    prog_buffer: Box<[u8]>,
    lookahead_buffer: Box<[u8]>,
    file_buffer: Box<[u8]>,
}

/// littlefs over a block device. Not mounted until [`Lfs::mount`] or [`Lfs::format`] succeed.
pub struct Lfs<D: BlockDevice> {
    state: NonNull<State<D>>,
    mounted: bool,
}

impl<D: BlockDevice> core::fmt::Debug for Lfs<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lfs")
            .field("mounted", &self.mounted)
            .finish()
    }
}

/// The `State` behind a configuration's `context`.
///
/// # Safety
/// `c` must be the `config` field of a live `State<D>` whose `context` points at that state.
unsafe fn state<'a, D>(c: *const ll::lfs_config) -> &'a mut State<D> {
    // SAFETY: per the contract, `context` points at the live state; littlefs only calls back
    // while an `Lfs` method is inside an `lfs_*` call, during which no Rust reference to the
    // state is held (the methods pass raw pointers).
    unsafe { &mut *((*c).context as *mut State<D>) }
}

fn offset(c: &ll::lfs_config, block: ll::lfs_block_t, off: ll::lfs_off_t) -> u64 {
    u64::from(block) * u64::from(c.block_size) + u64::from(off)
}

fn io_result<D>(s: &mut State<D>, r: Result<(), BlockError>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => {
            s.device_error.get_or_insert(e);
            ll::lfs_error_LFS_ERR_IO
        }
    }
}

unsafe extern "C" fn read_cb<D: BlockDevice>(
    c: *const ll::lfs_config,
    block: ll::lfs_block_t,
    off: ll::lfs_off_t,
    buffer: *mut c_void,
    size: ll::lfs_size_t,
) -> c_int {
    // SAFETY: littlefs passes back the configuration `Lfs::new` built (see `state`).
    let s = unsafe { state::<D>(c) };
    // SAFETY: littlefs hands a buffer of `size` writable bytes it does not touch meanwhile.
    let buf = unsafe { core::slice::from_raw_parts_mut(buffer as *mut u8, size as usize) };
    let at = offset(&s.config, block, off);
    let r = complete(s.device.read(at, buf));
    io_result(s, r)
}

unsafe extern "C" fn prog_cb<D: BlockDevice>(
    c: *const ll::lfs_config,
    block: ll::lfs_block_t,
    off: ll::lfs_off_t,
    buffer: *const c_void,
    size: ll::lfs_size_t,
) -> c_int {
    // SAFETY: as in `read_cb`.
    let s = unsafe { state::<D>(c) };
    // SAFETY: littlefs hands `size` readable bytes.
    let buf = unsafe { core::slice::from_raw_parts(buffer as *const u8, size as usize) };
    let at = offset(&s.config, block, off);
    let r = complete(s.device.write(at, buf));
    io_result(s, r)
}

/// A block device needs no erase before a write.
unsafe extern "C" fn erase_cb(_c: *const ll::lfs_config, _block: ll::lfs_block_t) -> c_int {
    0
}

unsafe extern "C" fn sync_cb<D: BlockDevice>(c: *const ll::lfs_config) -> c_int {
    // SAFETY: as in `read_cb`.
    let s = unsafe { state::<D>(c) };
    let r = complete(s.device.flush());
    io_result(s, r)
}

/// `path` as a NUL-terminated C string ("/" for the root).
fn c_path(path: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(path.len() + 2);
    if path.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(path.as_bytes());
    p.push(0);
    p
}

fn check(rc: c_int) -> Result<(), LfsError> {
    if rc < 0 { Err(rc) } else { Ok(()) }
}

impl<D: BlockDevice> Lfs<D> {
    /// littlefs over `device`, with `block_count` blocks of [`BLOCK_SIZE`] bytes, reads of a
    /// whole block and writes of the device's sector size. The caller checks the geometry.
    pub fn new(device: D, block_count: u32) -> Self {
        let sector = device.info().sector_size;
        let boxed = Box::new(State {
            // SAFETY: `lfs_t` is plain C data; littlefs initialises it in mount/format.
            lfs: unsafe { core::mem::zeroed() },
            config: ll::lfs_config::default(),
            device,
            device_error: None,
            read_buffer: vec![0; CACHE_SIZE as usize].into_boxed_slice(),
            prog_buffer: vec![0; CACHE_SIZE as usize].into_boxed_slice(),
            lookahead_buffer: vec![0; LOOKAHEAD_SIZE as usize].into_boxed_slice(),
            file_buffer: vec![0; CACHE_SIZE as usize].into_boxed_slice(),
        });
        let p = Box::into_raw(boxed);
        // SAFETY: `p` is a fresh, exclusive allocation; the buffers are separate allocations
        // that live as long as the state, so their pointers stay valid.
        unsafe {
            let s = &mut *p;
            s.config = ll::lfs_config {
                context: p as *mut c_void,
                read: Some(read_cb::<D>),
                prog: Some(prog_cb::<D>),
                erase: Some(erase_cb),
                sync: Some(sync_cb::<D>),
                // Whole-block reads: littlefs then finds most of a metadata scan in its read
                // cache, so far fewer device requests (VM exits on hvt) than sector-sized reads.
                read_size: BLOCK_SIZE,
                prog_size: sector,
                block_size: BLOCK_SIZE,
                block_count,
                block_cycles: -1,
                cache_size: CACHE_SIZE,
                lookahead_size: LOOKAHEAD_SIZE,
                read_buffer: s.read_buffer.as_mut_ptr() as *mut c_void,
                prog_buffer: s.prog_buffer.as_mut_ptr() as *mut c_void,
                lookahead_buffer: s.lookahead_buffer.as_mut_ptr() as *mut c_void,
                ..Default::default()
            };
        }
        Lfs {
            // SAFETY: `Box::into_raw` never returns null.
            state: unsafe { NonNull::new_unchecked(p) },
            mounted: false,
        }
    }

    fn lfs(&mut self) -> *mut ll::lfs_t {
        // SAFETY: the state is live for `self`'s lifetime.
        unsafe { addr_of_mut!((*self.state.as_ptr()).lfs) }
    }

    fn config(&mut self) -> *const ll::lfs_config {
        // SAFETY: the state is live for `self`'s lifetime.
        unsafe { addr_of_mut!((*self.state.as_ptr()).config) }
    }

    /// The block device.
    pub fn device(&self) -> &D {
        // SAFETY: no littlefs call is running (they all take `&mut self`).
        unsafe { &(*self.state.as_ptr()).device }
    }

    /// The first device error seen by a callback since the last call, if any.
    pub fn take_device_error(&mut self) -> Option<BlockError> {
        // SAFETY: no littlefs call is running.
        unsafe { (*self.state.as_ptr()).device_error.take() }
    }

    /// Mounts the file system on the device.
    pub fn mount(&mut self) -> Result<(), LfsError> {
        let (lfs, cfg) = (self.lfs(), self.config());
        // SAFETY: `lfs` and `cfg` point into the pinned state; callbacks find it by context.
        check(unsafe { ll::lfs_mount(lfs, cfg) })?;
        self.mounted = true;
        Ok(())
    }

    /// Finishes what a crash interrupted (a move between directories, orphaned blocks).
    /// Until then littlefs may hide entries next to a half-moved one from reads.
    pub fn make_consistent(&mut self) -> Result<(), LfsError> {
        let lfs = self.lfs();
        // SAFETY: mounted state.
        check(unsafe { ll::lfs_fs_mkconsistent(lfs) })
    }

    /// Writes a new, empty file system (unmounted afterwards).
    pub fn format(&mut self) -> Result<(), LfsError> {
        self.unmount();
        let (lfs, cfg) = (self.lfs(), self.config());
        // SAFETY: as in `mount`.
        check(unsafe { ll::lfs_format(lfs, cfg) })
    }

    /// Unmounts if mounted (littlefs only frees its own state; nothing is written).
    pub fn unmount(&mut self) {
        if self.mounted {
            let lfs = self.lfs();
            // SAFETY: mounted, so `lfs` is initialised.
            unsafe { ll::lfs_unmount(lfs) };
            self.mounted = false;
        }
    }

    /// What `path` names, or `None`.
    pub fn stat(&mut self, path: &str) -> Result<Option<Stat>, LfsError> {
        let p = c_path(path);
        let mut info = ll::lfs_info::default();
        let lfs = self.lfs();
        // SAFETY: mounted state, NUL-terminated path, `info` is a valid out-parameter.
        let rc = unsafe { ll::lfs_stat(lfs, p.as_ptr().cast(), &mut info) };
        match rc {
            ll::lfs_error_LFS_ERR_NOENT => Ok(None),
            rc if rc < 0 => Err(rc),
            _ if u32::from(info.type_) == ll::lfs_type_LFS_TYPE_DIR => Ok(Some(Stat::Dir)),
            _ => Ok(Some(Stat::File(u64::from(info.size)))),
        }
    }

    /// Creates directory `path`.
    pub fn mkdir(&mut self, path: &str) -> Result<(), LfsError> {
        let p = c_path(path);
        let lfs = self.lfs();
        // SAFETY: as in `stat`.
        check(unsafe { ll::lfs_mkdir(lfs, p.as_ptr().cast()) })
    }

    /// Removes a file or an empty directory.
    pub fn remove(&mut self, path: &str) -> Result<(), LfsError> {
        let p = c_path(path);
        let lfs = self.lfs();
        // SAFETY: as in `stat`.
        check(unsafe { ll::lfs_remove(lfs, p.as_ptr().cast()) })
    }

    /// Renames `from` to `to` atomically, replacing a file or empty directory at `to`.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), LfsError> {
        let (f, t) = (c_path(from), c_path(to));
        let lfs = self.lfs();
        // SAFETY: as in `stat`.
        check(unsafe { ll::lfs_rename(lfs, f.as_ptr().cast(), t.as_ptr().cast()) })
    }

    /// The entries of directory `path` (without `.` and `..`), with what each names. Names
    /// that are not UTF-8 are converted lossily.
    pub fn read_dir(&mut self, path: &str) -> Result<Vec<(String, Stat)>, LfsError> {
        let p = c_path(path);
        let lfs = self.lfs();
        // SAFETY: `dir` stays in place from open to close (littlefs links it into its list of
        // open directories); the path is NUL-terminated; the state is mounted.
        unsafe {
            let mut dir: ll::lfs_dir_t = core::mem::zeroed();
            check(ll::lfs_dir_open(lfs, &mut dir, p.as_ptr().cast()))?;
            let mut out = Vec::new();
            let result = loop {
                let mut info = ll::lfs_info::default();
                let rc = ll::lfs_dir_read(lfs, &mut dir, &mut info);
                if rc < 0 {
                    break Err(rc);
                }
                if rc == 0 {
                    break Ok(());
                }
                let bytes: Vec<u8> = info
                    .name
                    .iter()
                    .take_while(|&&c| c != 0)
                    .map(|&c| c as u8)
                    .collect();
                if bytes == b"." || bytes == b".." {
                    continue;
                }
                let stat = if u32::from(info.type_) == ll::lfs_type_LFS_TYPE_DIR {
                    Stat::Dir
                } else {
                    Stat::File(u64::from(info.size))
                };
                out.push((String::from_utf8_lossy(&bytes).into_owned(), stat));
            };
            let closed = ll::lfs_dir_close(lfs, &mut dir);
            result?;
            check(closed)?;
            Ok(out)
        }
    }

    /// Creates (or truncates) file `path` with `data` and modification time `mtime_ns`,
    /// committed when the file is closed. On error the file is closed too.
    pub fn write_file(&mut self, path: &str, data: &[u8], mtime_ns: u64) -> Result<(), LfsError> {
        let p = c_path(path);
        let lfs = self.lfs();
        let mut mtime = mtime_ns.to_le_bytes();
        let mut attr = ll::lfs_attr {
            type_: ATTR_MTIME,
            buffer: mtime.as_mut_ptr().cast(),
            size: mtime.len() as ll::lfs_size_t,
        };
        let flags = ll::lfs_open_flags_LFS_O_WRONLY
            | ll::lfs_open_flags_LFS_O_CREAT
            | ll::lfs_open_flags_LFS_O_TRUNC;
        // SAFETY: `file`, `attr`, `mtime` and the file buffer stay in place and alive from
        // open to close; the buffer is CACHE_SIZE bytes as configured; the state is mounted.
        unsafe {
            let cfg = ll::lfs_file_config {
                buffer: (*self.state.as_ptr()).file_buffer.as_mut_ptr().cast(),
                attrs: &mut attr,
                attr_count: 1,
            };
            let mut file: ll::lfs_file_t = core::mem::zeroed();
            check(ll::lfs_file_opencfg(
                lfs,
                &mut file,
                p.as_ptr().cast(),
                flags as c_int,
                &cfg,
            ))?;
            let mut written = 0;
            let mut result = Ok(());
            while written < data.len() {
                let chunk = &data[written..];
                let n = ll::lfs_file_write(lfs, &mut file, chunk.as_ptr().cast(), chunk.len() as _);
                if n <= 0 {
                    result = Err(if n < 0 { n } else { ll::lfs_error_LFS_ERR_IO });
                    break;
                }
                written += n as usize;
            }
            let closed = ll::lfs_file_close(lfs, &mut file);
            result?;
            check(closed)
        }
    }

    /// Reads file `path` from `offset` into `buf`; returns how many bytes were read.
    pub fn read_file(
        &mut self,
        path: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, LfsError> {
        let p = c_path(path);
        let lfs = self.lfs();
        // SAFETY: as in `write_file` (no attributes).
        unsafe {
            let cfg = ll::lfs_file_config {
                buffer: (*self.state.as_ptr()).file_buffer.as_mut_ptr().cast(),
                attrs: core::ptr::null_mut(),
                attr_count: 0,
            };
            let mut file: ll::lfs_file_t = core::mem::zeroed();
            check(ll::lfs_file_opencfg(
                lfs,
                &mut file,
                p.as_ptr().cast(),
                ll::lfs_open_flags_LFS_O_RDONLY as c_int,
                &cfg,
            ))?;
            let result = (|| {
                let Ok(off) = ll::lfs_soff_t::try_from(offset) else {
                    return Ok(0);
                };
                let pos = ll::lfs_file_seek(
                    lfs,
                    &mut file,
                    off,
                    ll::lfs_whence_flags_LFS_SEEK_SET as c_int,
                );
                if pos < 0 {
                    return Err(pos);
                }
                let mut done = 0;
                while done < buf.len() {
                    let rest = &mut buf[done..];
                    let n = ll::lfs_file_read(
                        lfs,
                        &mut file,
                        rest.as_mut_ptr().cast(),
                        rest.len() as _,
                    );
                    if n < 0 {
                        return Err(n);
                    }
                    if n == 0 {
                        break;
                    }
                    done += n as usize;
                }
                Ok(done)
            })();
            let closed = ll::lfs_file_close(lfs, &mut file);
            let n = result?;
            check(closed)?;
            Ok(n)
        }
    }

    /// The modification time recorded for `path` (0 when it has none).
    pub fn mtime(&mut self, path: &str) -> Result<u64, LfsError> {
        let p = c_path(path);
        let lfs = self.lfs();
        let mut bytes = [0u8; 8];
        // SAFETY: `bytes` is a writable buffer of the size given; the path is NUL-terminated.
        let n = unsafe {
            ll::lfs_getattr(
                lfs,
                p.as_ptr().cast(),
                ATTR_MTIME,
                bytes.as_mut_ptr().cast(),
                bytes.len() as ll::lfs_size_t,
            )
        };
        match n {
            ll::lfs_error_LFS_ERR_NOATTR => Ok(0),
            n if n < 0 => Err(n),
            _ => Ok(u64::from_le_bytes(bytes)),
        }
    }

    /// Blocks in use, as littlefs counts them.
    pub fn used_blocks(&mut self) -> Result<u64, LfsError> {
        let lfs = self.lfs();
        // SAFETY: mounted state.
        let n = unsafe { ll::lfs_fs_size(lfs) };
        if n < 0 { Err(n) } else { Ok(n as u64) }
    }

    /// The device, for a flush between littlefs calls.
    pub fn device_mut(&mut self) -> &mut D {
        // SAFETY: no littlefs call is running (they all take `&mut self`).
        unsafe { &mut (*self.state.as_ptr()).device }
    }
}

impl<D: BlockDevice> Drop for Lfs<D> {
    fn drop(&mut self) {
        self.unmount();
        // SAFETY: `state` came from `Box::into_raw` in `new` and is freed only here.
        drop(unsafe { Box::from_raw(self.state.as_ptr()) });
    }
}
