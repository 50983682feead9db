// Command mkrom builds an option ROM of roms/ from its nasm source:
// nasm -f bin, then roms.SignOptionROM sets the checksum byte.
//
//	go run ./mkrom -o linuxboot.bin linuxboot.asm
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"fuji/roms"
)

func main() {
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkrom -o OUT.bin SRC.asm")
		os.Exit(2)
	}
	if err := build(flag.Arg(0), *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkrom:", err)
		os.Exit(1)
	}
}

func build(src, out string) error {
	dir, err := os.MkdirTemp("", "mkrom")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	raw := filepath.Join(dir, "rom.bin")
	if b, err := exec.Command("nasm", "-f", "bin", "-o", raw, src).CombinedOutput(); err != nil {
		return fmt.Errorf("nasm: %v\n%s", err, b)
	}
	rom, err := os.ReadFile(raw)
	if err != nil {
		return err
	}
	if err := roms.SignOptionROM(rom); err != nil {
		return err
	}
	return os.WriteFile(out, rom, 0o644)
}
