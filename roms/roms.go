// Package roms finds the firmware Fuji runs: the system BIOS (Debian's
// SeaBIOS build, package seabios) and the VGA option ROM, or files the
// user names.
package roms

import (
	"fmt"
	"os"
)

// Standard locations of Debian's SeaBIOS images (package seabios; qemu's
// packages use the same files).
var (
	biosSearch = []string{
		"/usr/share/seabios/bios-256k.bin",
		"/usr/share/qemu/bios-256k.bin",
	}
	vgaSearch = []string{
		"/usr/share/seabios/vgabios-stdvga.bin",
		"/usr/share/qemu/vgabios-stdvga.bin",
	}
)

// Load reads a firmware file, checking that its size is usable as a PC
// BIOS or option ROM: a non-zero multiple of 512 bytes, at most 16 MiB.
func Load(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 || len(b)%512 != 0 || len(b) > 16<<20 {
		return nil, fmt.Errorf("%s: %d bytes is not a firmware image size (a multiple of 512 bytes up to 16 MiB)", path, len(b))
	}
	return b, nil
}

// BIOS returns the system BIOS: path if given, else Debian's SeaBIOS.
func BIOS(path string) ([]byte, string, error) {
	return find(path, biosSearch, "system BIOS (install Debian's seabios package, or give -bios FILE)")
}

// VGABIOS returns the VGA option ROM for the standard VGA adapter.
func VGABIOS(path string) ([]byte, string, error) {
	return find(path, vgaSearch, "VGA BIOS (install Debian's seabios package)")
}

func find(path string, search []string, what string) ([]byte, string, error) {
	if path != "" {
		b, err := Load(path)
		return b, path, err
	}
	for _, p := range search {
		if _, err := os.Stat(p); err == nil {
			b, err := Load(p)
			return b, p, err
		}
	}
	return nil, "", fmt.Errorf("no %s found in %v", what, search)
}
