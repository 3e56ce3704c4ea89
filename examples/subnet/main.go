// Subnet arithmetic: an address is a 32-bit number; the netmask keeps the
// network bits; the table of masks for every prefix length.
package main

import (
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"

	"github.com/netkit-dev/netkit/ipcalc"
)

func main() {
	arg := "192.168.0.186/24"
	if len(os.Args) > 1 {
		arg = os.Args[1]
	}
	if err := run(arg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(arg string, out io.Writer) error {
	p, err := netip.ParsePrefix(arg) // a host address and its network's length
	if err != nil {
		return err
	}
	if !p.Addr().Is4() {
		return fmt.Errorf("%s: this example does IPv4 arithmetic by hand; netkit ip does IPv6", arg)
	}
	b := p.Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	mask := ^uint32(0) << (32 - p.Bits())
	if p.Bits() == 0 {
		mask = 0
	}
	addr := func(v uint32) netip.Addr {
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	fmt.Fprintf(out, "address   %-15s %032b (%d)\n", p.Addr(), n, n)
	fmt.Fprintf(out, "netmask   %-15s %032b\n", addr(mask), mask)
	fmt.Fprintf(out, "network   %-15s (address AND mask)\n", addr(n&mask))
	fmt.Fprintf(out, "broadcast %-15s (network OR NOT mask)\n", addr(n|^mask))
	fmt.Fprintf(out, "hosts     %d\n", max(int64(1)<<(32-p.Bits())-2, 0))
	// The same by the library, which knows the rules for /31 and /32 too.
	fmt.Fprintf(out, "ipcalc agrees: %s\n", ipcalc.Supernet(netip.PrefixFrom(addr(n&mask), 32).Addr(), addr(n|^mask)))
	fmt.Fprintln(out, "\nlength  netmask          hosts")
	for bits := 8; bits <= 30; bits++ {
		m := ^uint32(0) << (32 - bits)
		fmt.Fprintf(out, "/%-6d %-16s %d\n", bits, addr(m), int64(1)<<(32-bits)-2)
	}
	return nil
}
