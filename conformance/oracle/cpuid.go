//go:build linux && amd64

package oracle

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// hostFeatures reads the build machine's CPUID feature bits the forms
// depend on.
func hostFeatures() map[string]bool {
	_, _, c1, d1 := cpuid(1, 0)
	_, b7, _, _ := cpuid(7, 0)
	_, _, c81, _ := cpuid(0x80000001, 0)
	return map[string]bool{
		"mmx":    d1&(1<<23) != 0,
		"sse":    d1&(1<<25) != 0,
		"sse2":   d1&(1<<26) != 0,
		"sse3":   c1&(1<<0) != 0,
		"ssse3":  c1&(1<<9) != 0,
		"sse4.1": c1&(1<<19) != 0,
		"sse4.2": c1&(1<<20) != 0,
		"popcnt": c1&(1<<23) != 0,
		"lzcnt":  c81&(1<<5) != 0,
		"bmi1":   b7&(1<<3) != 0,
	}
}
