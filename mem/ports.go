package mem

// PortHandler serves IN and OUT to a range of I/O ports. size is 1, 2 or 4.
type PortHandler interface {
	In(port uint16, size int) uint32
	Out(port uint16, size int, val uint32)
}

// PortBus is the 64 Ki I/O port space. Unclaimed ports read as all ones
// and ignore writes, as on a PC's ISA bus.
type PortBus struct {
	h [65536]PortHandler
}

// NewPortBus returns an empty port space.
func NewPortBus() *PortBus { return &PortBus{} }

// Register claims ports first..last (inclusive) for h, replacing any
// earlier claim.
func (p *PortBus) Register(first, last uint16, h PortHandler) {
	for port := int(first); port <= int(last); port++ {
		p.h[port] = h
	}
}

// Unregister releases ports first..last.
func (p *PortBus) Unregister(first, last uint16) { p.Register(first, last, nil) }

// Handler returns the handler of a port, or nil.
func (p *PortBus) Handler(port uint16) PortHandler { return p.h[port] }

// In reads size bytes from port. A multi-byte access to a port whose
// handler does not also own the following ports is split into byte
// accesses, as the ISA bus does.
func (p *PortBus) In(port uint16, size int) uint32 {
	h := p.h[port]
	if size == 1 || (h != nil && p.owns(h, port, size)) {
		if h == nil {
			return 0xff
		}
		return h.In(port, size) & uint32(sizeMask(size))
	}
	var v uint32
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | p.In(port+uint16(i), 1)
	}
	return v
}

// Out writes size bytes to port, split like In.
func (p *PortBus) Out(port uint16, size int, val uint32) {
	h := p.h[port]
	if size == 1 || (h != nil && p.owns(h, port, size)) {
		if h != nil {
			h.Out(port, size, val&uint32(sizeMask(size)))
		}
		return
	}
	for i := 0; i < size; i++ {
		p.Out(port+uint16(i), 1, val>>(8*i))
	}
}

func (p *PortBus) owns(h PortHandler, port uint16, size int) bool {
	for i := 1; i < size; i++ {
		if p.h[uint16(int(port)+i)] != h {
			return false
		}
	}
	return true
}
