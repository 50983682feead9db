//go:build linux && amd64

// Package oracle runs instructions natively on the build machine and in
// Fuji from the same state and compares the results.
package oracle

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"
)

func callNative(st, code uintptr)

// Fixed addresses shared by the native run and Fuji's guest memory, so
// that pointers (memory operands, FIP/FDP) are the same on both sides.
const (
	CodeAddr  = 0x3000000 // generated prologue, instruction, epilogue
	StateAddr = 0x3100000 // the register block the trampoline loads/stores
	DataAddr  = 0x3200000 // the memory operands' pages
	DataSize  = 0x2000
	GuestRAM  = 64 << 20

	instOff = 0x800 // the instruction under test starts here in the code page

	offGPR     = 0
	offFlags   = 128
	offGuestFX = 256
	offHostFX  = 1024
)

// Native owns the executable page, the state block and the data pages.
type Native struct {
	code, state, data []byte
	epilogue          int // offset of the epilogue template
}

func mmapFixed(addr uintptr, size int, prot int) ([]byte, error) {
	const mapFixedNoreplace = 0x100000
	p, _, errno := syscall.Syscall6(syscall.SYS_MMAP, addr, uintptr(size), uintptr(prot),
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|mapFixedNoreplace, ^uintptr(0), 0)
	if errno != 0 {
		return nil, fmt.Errorf("mmap %#x: %v", addr, errno)
	}
	if p != addr {
		syscall.Syscall(syscall.SYS_MUNMAP, p, uintptr(size), 0)
		return nil, fmt.Errorf("mmap %#x: kernel placed it at %#x", addr, p)
	}
	// p is memory the kernel mapped for us, never Go heap: reinterpret
	// the address without a uintptr→Pointer conversion vet would flag.
	return unsafe.Slice(*(**byte)(unsafe.Pointer(&p)), size), nil
}

// NewNative maps the fixed pages. Only one Native may exist at a time.
func NewNative() (*Native, error) {
	n := &Native{}
	var err error
	if n.code, err = mmapFixed(CodeAddr, 0x1000, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC); err != nil {
		return nil, err
	}
	if n.state, err = mmapFixed(StateAddr, 0x1000, syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
		return nil, err
	}
	if n.data, err = mmapFixed(DataAddr, DataSize, syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
		return nil, err
	}
	n.prologue()
	return n, nil
}

// Close unmaps the pages.
func (n *Native) Close() {
	for _, b := range [][]byte{n.code, n.state, n.data} {
		syscall.Syscall(syscall.SYS_MUNMAP, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	}
}

// asm is a tiny byte emitter for the fixed prologue/epilogue.
type asm []byte

func (a *asm) b(x ...byte) { *a = append(*a, x...) }
func (a *asm) d32(v uint32) {
	*a = binary.LittleEndian.AppendUint32(*a, v)
}

// memRDI emits opcode bytes with a ModRM of [rdi+disp32] and reg field r.
func (a *asm) memRDI(rex byte, op []byte, r byte, disp uint32) {
	if rex != 0 || r >= 8 {
		a.b(rex | 0x40 | (r>>3)<<2)
	}
	a.b(op...)
	a.b(0x87 | (r&7)<<3)
	a.d32(disp)
}

// prologue writes the code that loads the guest state (at 0) and the
// epilogue template (kept at the end of the page, copied after each
// instruction).
func (n *Native) prologue() {
	var a asm
	a.b(0x57)                                         // push rdi
	a.memRDI(0x48, []byte{0x0f, 0xae}, 0, offHostFX)  // fxsave64 [rdi+host]
	a.memRDI(0x48, []byte{0x0f, 0xae}, 1, offGuestFX) // fxrstor64 [rdi+guest]
	a.memRDI(0, []byte{0xff}, 6, offFlags)            // push qword [rdi+flags]
	a.b(0x9d)                                         // popfq
	for r := byte(0); r < 16; r++ {
		if r == 4 || r == 7 {
			continue
		}
		a.memRDI(0x48, []byte{0x8b}, r, uint32(offGPR+8*int(r))) // mov r, [rdi+8r]
	}
	a.memRDI(0x48, []byte{0x8b}, 7, offGPR+8*7) // mov rdi, [rdi+56]
	if len(a) > instOff {
		panic("prologue too long")
	}
	for i := range n.code {
		n.code[i] = 0xcc
	}
	// Pad from the prologue to the instruction with a jump.
	copy(n.code, a)
	j := len(a)
	n.code[j] = 0xe9
	binary.LittleEndian.PutUint32(n.code[j+1:], uint32(instOff-(j+5)))

	var e asm
	e.b(0x9c)                                // pushfq
	e.b(0x57)                                // push rdi
	e.b(0x48, 0x8b, 0x7c, 0x24, 0x10)        // mov rdi, [rsp+16]
	e.memRDI(0, []byte{0x8f}, 0, offGPR+8*7) // pop qword [rdi+56]
	e.memRDI(0, []byte{0x8f}, 0, offFlags)   // pop qword [rdi+flags]
	for r := byte(0); r < 16; r++ {
		if r == 4 || r == 7 {
			continue
		}
		e.memRDI(0x48, []byte{0x89}, r, uint32(offGPR+8*int(r))) // mov [rdi+8r], r
	}
	e.memRDI(0x48, []byte{0x0f, 0xae}, 0, offGuestFX) // fxsave64 [rdi+guest]
	e.memRDI(0x48, []byte{0x0f, 0xae}, 1, offHostFX)  // fxrstor64 [rdi+host]
	e.b(0x5f, 0xc3)                                   // pop rdi; ret
	n.epilogue = 0x1000 - len(e) - 16
	copy(n.code[n.epilogue:], e)
}

// Run executes inst natively from st (GPRs, flags, FXSAVE64 image) with
// the data pages holding data, and returns the final state and data.
// The instruction must not fault, branch or touch RSP.
func (n *Native) Run(st *State, inst []byte) {
	code := n.code[instOff:]
	copy(code, inst)
	// Jump to the epilogue template.
	j := len(inst)
	code[j] = 0xe9
	binary.LittleEndian.PutUint32(code[j+1:], uint32(n.epilogue-(instOff+j+5)))
	for i := 0; i < 16; i++ {
		binary.LittleEndian.PutUint64(n.state[offGPR+8*i:], st.GPR[i])
	}
	binary.LittleEndian.PutUint64(n.state[offFlags:], st.Flags)
	copy(n.state[offGuestFX:offGuestFX+512], st.FX[:])
	copy(n.data, st.Data[:])
	callNative(StateAddr, CodeAddr)
	for i := 0; i < 16; i++ {
		if i == 4 {
			continue
		}
		st.GPR[i] = binary.LittleEndian.Uint64(n.state[offGPR+8*i:])
	}
	st.Flags = binary.LittleEndian.Uint64(n.state[offFlags:])
	copy(st.FX[:], n.state[offGuestFX:offGuestFX+512])
	copy(st.Data[:], n.data)
}

// InstAddr is the address of the instruction under test.
const InstAddr = CodeAddr + instOff
