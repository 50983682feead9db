#!/usr/bin/env bash
# Build a busybox initramfs (cpio newc, gzip) for Fuji's Linux guests.
#   scripts/mkinitramfs.sh BUSYBOX OUT.cpio.gz shell|test|bench
# shell: an interactive shell on the serial console; exiting it powers off.
# test:  runs a few commands, prints markers the tests look for, powers off.
# bench: runs /cpubench (scripts/cpubench.c, built here with gcc -O2
#        -static; amd64 only), which prints its FUJI-CPUBENCH line, then
#        powers off.
set -euo pipefail
busybox=${1:?usage: mkinitramfs.sh BUSYBOX OUT.cpio.gz shell|test|bench}
out=${2:?}
kind=${3:-shell}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root}
cp "$busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
for app in sh mount umount poweroff reboot cat echo uname dmesg ls mkdir setsid cttyhack grep sleep; do
  ln -s busybox "$root/bin/$app"
done
cat > "$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
INIT
case $kind in
  shell)
    # busybox init is PID 1 so that `poweroff` (which signals init) shuts
    # the system down and powers off; leaving the shell does the same.
    mkdir -p "$root/sbin"
    ln -s ../bin/busybox "$root/sbin/init"
    cat >> "$root/init" <<'INIT'
exec /sbin/init
INIT
    cat > "$root/etc/inittab" <<'TAB'
::sysinit:/etc/rcS
::once:/bin/console-shell
::shutdown:/bin/umount -a -r
TAB
    cat > "$root/etc/rcS" <<'RCS'
#!/bin/sh
echo
echo "Fuji: Linux $(uname -r) is up. This is a busybox shell; 'poweroff' (or exit) ends Fuji."
RCS
    cat > "$root/bin/console-shell" <<'SH'
#!/bin/sh
setsid cttyhack sh -l
exec poweroff
SH
    chmod 755 "$root/etc/rcS" "$root/bin/console-shell"
    ;;
  test)
    cat >> "$root/init" <<'INIT'
echo "FUJI-MARKER: shell reached"
echo "FUJI-UNAME: $(uname -a)"
echo "FUJI-UPTIME: $(cat /proc/uptime)"
dmesg > /tmp/dmesg
echo "FUJI-DMESG-BEGIN"
cat /tmp/dmesg
echo "FUJI-DMESG-END"
poweroff -f
INIT
    ;;
  bench)
    # The host's gcc builds the benchmark, so host and guest must both be
    # x86-64 (ELF e_machine 0x3e at offset 18 of the busybox binary).
    if [ "$(uname -m)" != x86_64 ] || [ "$(od -An -tx1 -j18 -N1 "$busybox" | tr -d ' ')" != 3e ]; then
      echo "mkinitramfs.sh: the bench initramfs is amd64 only (x86-64 host and busybox)" >&2; exit 2
    fi
    gcc -O2 -static -Wall -Wextra -Werror -o "$root/cpubench" "$(dirname "$0")/cpubench.c"
    cat >> "$root/init" <<'INIT'
echo "FUJI-MARKER: shell reached"
/cpubench
poweroff -f
INIT
    ;;
  *) echo "mkinitramfs.sh: kind must be shell, test or bench" >&2; exit 2 ;;
esac
chmod 755 "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 > "$out"
echo "built $out ($kind)"
