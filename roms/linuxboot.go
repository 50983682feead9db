package roms

import (
	_ "embed"
	"errors"
	"fmt"
)

//go:generate go run ./mkrom -o linuxboot.bin linuxboot.asm

// linuxBoot is Fuji's Linux loader option ROM, assembled from
// linuxboot.asm and signed by SignOptionROM (go generate; the test
// TestLinuxBootROMBuild checks the committed image is exactly that).
//
//go:embed linuxboot.bin
var linuxBoot []byte

// LinuxBootName is the fw_cfg file name under which the machine hands the
// Linux loader to SeaBIOS: SeaBIOS runs every "genroms/" file as an
// option ROM, and "bootorder" names it with the prefix "/rom@".
const LinuxBootName = "genroms/linuxboot_dma.bin"

// LinuxBoot returns a copy of the Linux loader option ROM
// (linuxboot.asm): it loads the kernel, initrd and command line the
// machine put in fw_cfg and enters the kernel's real-mode setup code.
func LinuxBoot() []byte {
	return append([]byte(nil), linuxBoot...)
}

// SignOptionROM sets the last byte of a legacy option ROM so that its
// bytes sum to zero modulo 256, after checking the 55AA signature and
// that the image is exactly the size its header gives (byte 2, in
// 512-byte blocks). It is the last step of building linuxboot.bin.
func SignOptionROM(rom []byte) error {
	if err := checkROMHeader(rom); err != nil {
		return err
	}
	rom[len(rom)-1] = 0
	var sum byte
	for _, b := range rom {
		sum += b
	}
	rom[len(rom)-1] = -sum
	return nil
}

func checkROMHeader(rom []byte) error {
	if len(rom) < 512 || rom[0] != 0x55 || rom[1] != 0xaa {
		return errors.New("option ROM: no 55AA signature")
	}
	if int(rom[2])*512 != len(rom) {
		return fmt.Errorf("option ROM: header says %d blocks of 512 bytes, image has %d bytes", rom[2], len(rom))
	}
	return nil
}

// CheckOptionROM verifies a legacy option ROM the way a BIOS does before
// running it: signature, size and checksum.
func CheckOptionROM(rom []byte) error {
	if err := checkROMHeader(rom); err != nil {
		return err
	}
	var sum byte
	for _, b := range rom {
		sum += b
	}
	if sum != 0 {
		return fmt.Errorf("option ROM: bytes sum to %#x, not 0", sum)
	}
	return nil
}
