package cpu

// SSE3 packed arithmetic: ADDSUBPS/PD (F2/66 0F D0), HADDPS/PD (F2/66
// 0F 7C), HSUBPS/PD (F2/66 0F 7D). MOVSLDUP/MOVSHDUP/MOVDDUP and LDDQU
// are in ssemov.go, FISTTP in the x87 unit. MONITOR/MWAIT are not
// implemented: CPUID.1:ECX.MONITOR stays 0 and 0F 01 C8/C9 are #UD.

// opHaddsub: 0F 7C, 0F 7D, 0F D0 with 66 (double) or F2 (single).
func opHaddsub(c *CPU, in *Inst) {
	c.sseAvail()
	double := in.Prefixes&PfxOpSize != 0
	src := c.xmmRM(in, true)
	dst := c.XMM[in.Reg]
	n := 4
	if double {
		n = 2
	}
	var flags uint16
	var res [2]uint64
	op := uint8(in.Op)
	for i := 0; i < n; i++ {
		var a, b uint64
		fop := uint8(fpAdd)
		switch op {
		case 0xd0: // ADDSUB: even lanes subtract, odd lanes add
			a, b = laneGet(dst, i, double), laneGet(src, i, double)
			if i&1 == 0 {
				fop = fpSub
			}
		default: // HADD/HSUB: pairs of dst, then pairs of src
			v := dst
			k := i
			if i >= n/2 {
				v, k = src, i-n/2
			}
			a, b = laneGet(v, 2*k, double), laneGet(v, 2*k+1, double)
			if op == 0x7d {
				fop = fpSub
			}
		}
		e := c.sseEnv(double)
		r := c.laneArith(fop, a, b, double, &e)
		flags |= e.flags
		laneSet(&res, i, double, r)
	}
	c.sseFinish(flags)
	c.XMM[in.Reg] = res
}
