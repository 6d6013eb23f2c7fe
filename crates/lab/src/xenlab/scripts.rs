//! The dom0 side of the lab: the initramfs's `/init` and the two hotplug scripts that replace
//! Debian's bash ones. Lines the lab parses start with `@@xenlab`.

/// The dom0 `/init`: starts the Xen daemons, prepares the loop disks, runs `/guests/plan.sh`
/// (one `run_guest INDEX NAME TIMEOUT_S reset|keep` per guest: `keep` boots on the disks as the
/// previous guest left them), then powers the machine off.
pub const INIT: &str = r#"#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/lib/xen-4.17/bin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback xen-netback loop; do
  insmod /lib/modules/$m.ko || echo "@@xenlab warning: module $m"
done
mount -t xenfs xenfs /proc/xen
mkdir -p /var/run/xen /var/run/xenstored /var/lib/xen /var/lib/xenstored /var/log/xen/console /run
xenstored --pid-file /var/run/xenstored.pid
xen-init-dom0 >/dev/null
xenconsoled --log=guest --log-dir=/var/log/xen/console
ip link set lo up
for i in 0 1; do
  dd if=/dev/zero of=/disk$i.img bs=1M count=4 2>/dev/null
  losetup /dev/loop$i /disk$i.img
done

uptime_cs() { read up rest </proc/uptime; echo ${up%.*}${up#*.}; }

reset_disks() {
  for d in 0 1; do
    printf 'xenlab disk %s' $d | dd of=/disk$d.img bs=512 count=1 conv=notrunc,sync 2>/dev/null
  done
}

run_guest() {
  i=$1; name=$2; timeout=$3
  [ "$4" = keep ] || reset_disks
  echo "@@xenlab begin $name"
  tc=$(uptime_cs)
  # Created paused, so the guest's own run is timed from the unpause.
  if ! xl create -p /guests/$i/guest.cfg >/tmp/xl.log 2>&1; then
    sed 's/^/@@xenlab xl /' /tmp/xl.log
    xl destroy $name >/dev/null 2>&1
    echo "@@xenlab end $name state=create-failed status=none ms=0"
    return
  fi
  t0=$(uptime_cs)
  xl unpause $name
  if [ -f /guests/$i/dom0.sh ]; then
    sh /guests/$i/dom0.sh 2>&1 | sed 's/^/@@xenlab dom0 /'
  fi
  state=timeout
  n=0
  while [ $n -lt $((timeout * 10)) ]; do
    s=$(xl list $name 2>/dev/null | awk 'NR==2 {print $5}')
    case "$s" in
      *c*) state=crashed; break ;;
      *s*) state=shutdown; break ;;
      "") state=gone; break ;;
    esac
    sleep 0.1
    n=$((n + 1))
  done
  t1=$(uptime_cs)
  domid=$(xl domid $name 2>/dev/null)
  status=$(xenstore-read /local/domain/$domid/data/morgana-exit 2>/dev/null || echo none)
  sleep 0.2
  echo "@@xenlab console-begin"
  cat /var/log/xen/console/guest-$name.log 2>/dev/null
  echo
  echo "@@xenlab console-end"
  cpu=$(xl list $name 2>/dev/null | awk 'NR==2 {print $6}')
  d=$(head -c 512 /disk0.img | tr -d '\000\n')
  echo "@@xenlab disk0 $d"
  xl destroy $name >/dev/null 2>&1
  echo "@@xenlab end $name state=$state status=$status ms=$(( (t1 - t0) * 10 )) create_ms=$(( (t0 - tc) * 10 )) cpu=${cpu:-none}"
}

echo "@@xenlab ready"
. /guests/plan.sh
echo "@@xenlab done"
sync
poweroff -f
sleep 2
reboot -f
"#;

/// vif hotplug script: the back-end interface gets 10.0.0.1/24 (no bridge).
pub const VIF: &str = r#"#!/bin/sh
case "$1" in
  online|add)
    ip link set "$vif" up
    ip addr add 10.0.0.1/24 dev "$vif" 2>/dev/null
    xenstore-write "$XENBUS_PATH/hotplug-status" connected
    ;;
esac
exit 0
"#;

/// Block hotplug script: publishes the loop device's major:minor for blkback.
pub const BLOCK: &str = r#"#!/bin/sh
case "$1" in
  add)
    dev=$(xenstore-read "$XENBUS_PATH/params")
    xenstore-write "$XENBUS_PATH/physical-device" "$(stat -L -c '%t:%T' "$dev")"
    xenstore-write "$XENBUS_PATH/physical-device-path" "$dev"
    xenstore-write "$XENBUS_PATH/hotplug-status" connected
    ;;
esac
exit 0
"#;
