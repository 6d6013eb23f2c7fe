//! The L1 side of the KVM lab: the initramfs's `/init`. Lines the lab parses start with
//! `@@kvmlab ` (see [`super::console`]).

/// Kernel modules, in load order (Debian builds them as modules; the unpacked package has no
/// `modules.dep`, so the order follows each module's `depends=`): KVM with AMD SVM, and tun.
pub const MODULES: &[&str] = &[
    "virt/lib/irqbypass.ko",
    "drivers/crypto/ccp/ccp.ko",
    "arch/x86/kvm/kvm.ko",
    "arch/x86/kvm/kvm-amd.ko",
    "drivers/net/tun.ko",
];

/// CPU flags the smoke phase reports when `/proc/cpuinfo` lists them: SVM for nested KVM, the
/// SIMD extensions hard-float guests use, and the hardware entropy sources.
pub const SMOKE_FLAGS: &str = "svm npt sse sse2 sse4_2 avx avx2 xsave bmi2 rdrand rdseed";

/// `/init`: mounts the kernel's file systems, loads the modules, reports what the smoke phase
/// checks (`smoke` lines), then runs `/guests/plan.sh` (one `run_guest INDEX NAME TIMEOUT_S`
/// per guest) and powers the machine off.
///
/// Per guest, `/guests/INDEX/` holds `run.sh` (execs the tender with the guest's options,
/// image and arguments) and optionally `setup.sh` (run before), `during.sh` (run alongside,
/// with the tender's PID in `GUEST_PID`; touching `/tmp/stopped` before killing the guest
/// makes its end `state=stopped`) and `after.sh` (run after). The tender's standard output
/// and error are forwarded line by line as they come (`out`, `err`); the L1 scripts' output
/// follows the guest's end (`l1`).
pub const INIT: &str = r#"#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /disks
echo "@@kvmlab init"
for m in irqbypass ccp kvm kvm-amd tun; do
  insmod /lib/modules/$m.ko || echo "@@kvmlab warning module $m"
done
ip link set lo up
dmesg | grep -o 'kvm: Nested Virtualization enabled' | head -n 1 | sed 's/^/@@kvmlab smoke nested /'
flags=$(grep -m 1 '^flags' /proc/cpuinfo)
have=""
for f in $SMOKE_FLAGS; do
  case " ${flags#*:} " in *" $f "*) have="$have $f" ;; esac
done
echo "@@kvmlab smoke flags$have"
if [ -c /dev/kvm ]; then echo "@@kvmlab smoke kvm $(cat /sys/class/misc/kvm/dev)"; fi
echo "@@kvmlab ready"

prefix() {
  while IFS= read -r l || [ -n "$l" ]; do echo "@@kvmlab $1 $l"; done
}

run_guest() {
  i=$1; name=$2; limit=$3; d=/guests/$i
  echo "@@kvmlab begin $name"
  rm -f /tmp/out.fifo /tmp/err.fifo /tmp/timed-out /tmp/stopped
  : >/tmp/l1.log
  [ -f $d/setup.sh ] && sh $d/setup.sh >>/tmp/l1.log 2>&1
  mkfifo /tmp/out.fifo /tmp/err.fifo
  prefix out </tmp/out.fifo &
  r1=$!
  prefix err </tmp/err.fifo &
  r2=$!
  echo "@@kvmlab start"
  sh $d/run.sh >/tmp/out.fifo 2>/tmp/err.fifo &
  pid=$!
  ( sleep $limit; kill -9 $pid 2>/dev/null && : >/tmp/timed-out ) &
  w=$!
  dpid=""
  if [ -f $d/during.sh ]; then
    GUEST_PID=$pid timeout $limit sh $d/during.sh >/tmp/during.log 2>&1 &
    dpid=$!
  fi
  wait $pid
  st=$?
  kill $w 2>/dev/null
  state=exited
  [ -f /tmp/stopped ] && state=stopped
  [ -f /tmp/timed-out ] && state=timeout
  wait $r1 $r2
  echo "@@kvmlab exit state=$state status=$st"
  if [ -n "$dpid" ]; then
    wait $dpid
    cat /tmp/during.log >>/tmp/l1.log
  fi
  [ -f $d/after.sh ] && sh $d/after.sh >>/tmp/l1.log 2>&1
  prefix l1 </tmp/l1.log
  echo "@@kvmlab end $name"
}

. /guests/plan.sh
echo "@@kvmlab done"
poweroff -f
"#;

/// [`INIT`] with the smoke phase's flag list filled in.
pub fn init_script() -> String {
    INIT.replacen(
        "export PATH=/bin:/usr/bin\n",
        &format!("export PATH=/bin:/usr/bin\nSMOKE_FLAGS=\"{SMOKE_FLAGS}\"\n"),
        1,
    )
}

/// `text` as one shell word, exactly (single quotes; an embedded `'` closes, escapes, reopens).
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_quoting() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_init_script_gets_the_flag_list_once() {
        let s = init_script();
        assert_eq!(s.matches("SMOKE_FLAGS=\"svm npt ").count(), 1);
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.ends_with("poweroff -f\n"));
    }
}
