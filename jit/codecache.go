package jit

import (
	"fmt"
	"syscall"
	"unsafe"
)

// codeCache is executable memory for translations: one mmap'd region,
// filled front to back and emptied as a whole when it is full (the CPU
// then drops every translation and recompiles what stays hot).
type codeCache struct {
	mem  []byte
	used int
}

func newCodeCache(size int) (*codeCache, error) {
	m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("jit: cannot map %d KiB of executable memory: %v", size>>10, err)
	}
	return &codeCache{mem: m}, nil
}

// put copies code into the cache and returns its address, or 0 if it
// does not fit.
func (cc *codeCache) put(code []byte) uintptr {
	start := (cc.used + 15) &^ 15
	if start+len(code) > len(cc.mem) {
		return 0
	}
	copy(cc.mem[start:], code)
	cc.used = start + len(code)
	return uintptr(unsafe.Pointer(&cc.mem[start]))
}

func (cc *codeCache) reset() { cc.used = 0 }

// base is the address of the cache's first byte.
func (cc *codeCache) base() uintptr { return uintptr(unsafe.Pointer(&cc.mem[0])) }

func (cc *codeCache) free() {
	if cc.mem != nil {
		syscall.Munmap(cc.mem)
		cc.mem = nil
	}
}
