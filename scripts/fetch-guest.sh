#!/usr/bin/env bash
# Fetch the guest Fuji boots: Debian 12's stock kernel and busybox-static,
# with `apt-get download` (never modified or rebuilt), into DIR.
#   scripts/fetch-guest.sh DIR amd64|i386
set -euo pipefail
dir=${1:?usage: fetch-guest.sh DIR amd64|i386}
arch=${2:-amd64}
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
mkdir -p "$dir"
cd "$dir"
case $arch in
  amd64) meta=linux-image-amd64; suffix="" ;;
  i386)  meta=linux-image-686-pae:i386; suffix=":i386"
         if ! dpkg --print-foreign-architectures | grep -qx i386; then
           $sudo dpkg --add-architecture i386
           $sudo apt-get update -qq
         fi ;;
  *) echo "fetch-guest.sh: unknown arch $arch" >&2; exit 2 ;;
esac
# The meta package names the versioned kernel package it depends on.
pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$pkg" ]; then
  $sudo apt-get update -qq
  pkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-/{print $2; exit}')
fi
pkg=${pkg%%:*}$suffix
rm -rf "extract-$arch"; mkdir -p "extract-$arch"
# apt-get download writes into the current directory; as root it warns that
# the _apt user cannot write here, which is harmless.
apt-get download -q "$pkg" "busybox-static$suffix" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true
for deb in ${pkg%%:*}_*.deb busybox-static_*_"$arch".deb; do
  dpkg-deb -x "$deb" "extract-$arch"
done
cp "extract-$arch"/boot/vmlinuz-* "vmlinuz-$arch"
cp "extract-$arch"/bin/busybox "busybox-$arch"
ls "extract-$arch"/boot/vmlinuz-* | sed 's|.*/vmlinuz-||' > "kernel-version-$arch"
rm -rf "extract-$arch"
echo "fetched $(cat "kernel-version-$arch") and busybox for $arch into $dir"
