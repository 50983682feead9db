package cpu

import (
	"debug/elf"
	"os"
	"testing"
)

// hostText returns up to n bytes of this test binary's own .text: real,
// compiler-generated x86-64 code for a realistic instruction mix.
func hostText(b *testing.B, n int) []byte {
	exe, err := os.Executable()
	if err != nil {
		b.Skip(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	s := f.Section(".text")
	if s == nil || f.Machine != elf.EM_X86_64 {
		b.Skip("no x86-64 .text")
	}
	data, err := s.Data()
	if err != nil {
		b.Skip(err)
	}
	if len(data) > n {
		data = data[:n]
	}
	return data
}

// instStarts splits code into instruction offsets by linear sweep,
// stepping one byte over anything that does not decode.
func instStarts(code []byte, mode Mode) []int {
	var offs []int
	var in Inst
	for off := 0; off < len(code); {
		if Decode(code[off:], mode, &in) != nil {
			off++
			continue
		}
		offs = append(offs, off)
		off += int(in.Len)
	}
	return offs
}

func benchDecode(b *testing.B, code []byte, mode Mode) {
	offs := instStarts(code, mode)
	if len(offs) == 0 {
		b.Skip("no instructions")
	}
	var in Inst
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		for _, off := range offs {
			_ = Decode(code[off:], mode, &in)
		}
		n += len(offs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/inst")
}

// BenchmarkDecode64Host decodes 256 KiB of Go-compiled x86-64 code.
func BenchmarkDecode64Host(b *testing.B) { benchDecode(b, hostText(b, 256<<10), Mode64) }

// mixed32 is a hand-picked 32-bit stream in the proportions typical of
// kernel and BIOS code: moves, ALU with immediates, SIB forms, branches,
// string ops, prefixes and a few 0F-map and x87/SSE forms.
var mixed32 = []byte{
	0x55,       // push ebp
	0x89, 0xe5, // mov ebp, esp
	0x83, 0xec, 0x18, // sub esp, 0x18
	0x8b, 0x45, 0x08, // mov eax, [ebp+8]
	0x8b, 0x14, 0x85, 0x00, 0x10, 0x00, 0x00, // mov edx, [eax*4+0x1000]
	0x01, 0xd0, // add eax, edx
	0x3d, 0x00, 0x01, 0x00, 0x00, // cmp eax, 0x100
	0x74, 0x05, // je
	0x0f, 0xb6, 0x4c, 0x24, 0x04, // movzx ecx, byte [esp+4]
	0xf3, 0xa5, // rep movsd
	0x66, 0x89, 0x46, 0x02, // mov [esi+2], ax
	0xc7, 0x44, 0x24, 0x08, 0x01, 0x00, 0x00, 0x00, // mov dword [esp+8], 1
	0xe8, 0x00, 0x00, 0x00, 0x00, // call
	0x0f, 0x85, 0x10, 0x00, 0x00, 0x00, // jne rel32
	0x64, 0xa1, 0x00, 0x00, 0x00, 0x00, // mov eax, fs:[0]
	0xf0, 0x0f, 0xb1, 0x0a, // lock cmpxchg [edx], ecx
	0xd9, 0x45, 0xf8, // fld dword [ebp-8]
	0x66, 0x0f, 0x6f, 0x04, 0x24, // movdqa xmm0, [esp]
	0x8d, 0x74, 0x26, 0x00, // lea esi, [esi]
	0xc1, 0xe0, 0x04, // shl eax, 4
	0x85, 0xc0, // test eax, eax
	0xc9, // leave
	0xc3, // ret
}

// BenchmarkDecode32Mixed decodes a hand-built 32-bit instruction mix.
func BenchmarkDecode32Mixed(b *testing.B) { benchDecode(b, mixed32, Mode32) }
