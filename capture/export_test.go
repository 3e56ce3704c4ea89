package capture

// SlowLine is the line from gopacket's full decode, for comparing the
// fast path with it.
func SlowLine(p *Packet) string { return string(p.appendSlow(nil)) }

// TakesFastPath reports whether the line comes from the reused layers.
func TakesFastPath(p *Packet) bool { _, ok := p.appendFast(nil); return ok }
