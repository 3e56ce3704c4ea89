package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// proxyV2Sig opens every PROXY protocol v2 header.
var proxyV2Sig = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

// AppendProxyV2 appends a PROXY protocol v2 header (the PROXY command)
// telling the target that the flow came from src to dst. IPv4-mapped
// addresses are written as IPv4; when the two are of different families,
// both are written as IPv6.
func AppendProxyV2(b []byte, p Proto, src, dst netip.AddrPort) []byte {
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if s.Is4() != d.Is4() {
		s, d = netip.AddrFrom16(s.As16()), netip.AddrFrom16(d.As16())
	}
	fam := byte(0x10) // AF_INET
	if !s.Is4() {
		fam = 0x20 // AF_INET6
	}
	if p == UDP {
		fam |= 0x02
	} else {
		fam |= 0x01
	}
	b = append(b, proxyV2Sig[:]...)
	b = append(b, 0x21, fam) // version 2, PROXY
	alen := 12
	if !s.Is4() {
		alen = 36
	}
	b = binary.BigEndian.AppendUint16(b, uint16(alen))
	b = append(b, s.AsSlice()...)
	b = append(b, d.AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// ErrNotProxyV2 is a header that does not begin with the v2 signature.
var ErrNotProxyV2 = errors.New("gateway: not a PROXY protocol v2 header")

// ParseProxyV2 reads a PROXY protocol v2 header from the start of b and
// returns the addresses it carries and the header's length. A LOCAL
// header (a health check) returns invalid addresses. TLVs after the
// addresses are skipped.
func ParseProxyV2(b []byte) (p Proto, src, dst netip.AddrPort, n int, err error) {
	if len(b) < 16 || [12]byte(b[:12]) != proxyV2Sig {
		return 0, src, dst, 0, ErrNotProxyV2
	}
	if b[12]>>4 != 2 {
		return 0, src, dst, 0, fmt.Errorf("gateway: PROXY header version %d, want 2", b[12]>>4)
	}
	l := int(binary.BigEndian.Uint16(b[14:16]))
	n = 16 + l
	if len(b) < n {
		return 0, src, dst, 0, fmt.Errorf("gateway: PROXY header of %d bytes, only %d here", n, len(b))
	}
	switch b[12] & 0x0F {
	case 0x0: // LOCAL
		return 0, src, dst, n, nil
	case 0x1:
	default:
		return 0, src, dst, 0, fmt.Errorf("gateway: PROXY header command %#x is neither LOCAL nor PROXY", b[12]&0x0F)
	}
	switch b[13] & 0x0F {
	case 1:
		p = TCP
	case 2:
		p = UDP
	default:
		return 0, src, dst, 0, fmt.Errorf("gateway: PROXY header transport %#x is neither stream nor datagram", b[13]&0x0F)
	}
	body := b[16:n]
	var alen int
	switch b[13] >> 4 {
	case 1:
		alen = 4
	case 2:
		alen = 16
	default:
		return 0, src, dst, 0, fmt.Errorf("gateway: PROXY header family %#x is neither IPv4 nor IPv6", b[13]>>4)
	}
	if len(body) < 2*alen+4 {
		return 0, src, dst, 0, fmt.Errorf("gateway: PROXY header addresses need %d bytes, it has %d", 2*alen+4, len(body))
	}
	sa, _ := netip.AddrFromSlice(body[:alen])
	da, _ := netip.AddrFromSlice(body[alen : 2*alen])
	src = netip.AddrPortFrom(sa, binary.BigEndian.Uint16(body[2*alen:]))
	dst = netip.AddrPortFrom(da, binary.BigEndian.Uint16(body[2*alen+2:]))
	return p, src, dst, n, nil
}
