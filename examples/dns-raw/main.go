// A DNS query by hand: the bytes of RFC 1035 section 4.1 written on a UDP
// socket and the answer parsed back, then the same question through
// dnsclient, the highest layer that does the job.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/dnsclient"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("dns-raw", flag.ContinueOnError)
	server := fs.String("server", "127.0.0.1:53", "the DNS server, host:port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	name := fs.Arg(0)
	if name == "" {
		return errors.New("usage: dns-raw [-server HOST:PORT] NAME")
	}
	q, id, err := query(name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "query, %d bytes: % x\n", len(q), q)
	c, err := net.Dial("udp", *server)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(q); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1232)
	n, err := c.Read(buf)
	if err != nil {
		return fmt.Errorf("no answer from %s: %w", *server, err)
	}
	addrs, err := parse(buf[:n], id)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "by hand:   %s has %v\n", name, addrs)

	sv, err := dnsclient.ParseServer(*server)
	if err != nil {
		return err
	}
	dc := &dnsclient.Client{Servers: []dnsclient.Server{sv}, NoEDNS: true}
	ans, err := dc.Lookup(ctx, dnsclient.Query{Name: name, Type: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "dnsclient: %s has %v (%s)\n", name, ans.Records(), ans.Rcode())
	return nil
}

// query builds a standard query for the A records of name: a 12-byte
// header, then the question (RFC 1035 section 4.1).
func query(name string) ([]byte, uint16, error) {
	id := uint16(rand.Uint32())
	q := binary.BigEndian.AppendUint16(nil, id)
	q = binary.BigEndian.AppendUint16(q, 0x0100) // flags: a query, recursion desired
	q = binary.BigEndian.AppendUint16(q, 1)      // QDCOUNT: one question
	q = append(q, 0, 0, 0, 0, 0, 0)              // ANCOUNT, NSCOUNT, ARCOUNT
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if len(label) == 0 || len(label) > 63 {
			return nil, 0, fmt.Errorf("invalid name %q: labels are 1 to 63 bytes", name)
		}
		q = append(q, byte(len(label)))
		q = append(q, label...)
	}
	q = append(q, 0)    // the root label ends the name
	q = append(q, 0, 1) // QTYPE A
	q = append(q, 0, 1) // QCLASS IN
	return q, id, nil
}

// parse reads the A records out of a response to the query with id.
func parse(m []byte, id uint16) ([]netip.Addr, error) {
	if len(m) < 12 {
		return nil, errors.New("a response shorter than its header")
	}
	if binary.BigEndian.Uint16(m) != id {
		return nil, errors.New("a response to another query")
	}
	flags := binary.BigEndian.Uint16(m[2:])
	if rcode := flags & 0xf; rcode != 0 {
		return nil, fmt.Errorf("the server answered rcode %d", rcode)
	}
	qd, an := int(binary.BigEndian.Uint16(m[4:])), int(binary.BigEndian.Uint16(m[6:]))
	off := 12
	var err error
	for range qd {
		if off, err = skipName(m, off); err != nil {
			return nil, err
		}
		off += 4 // QTYPE, QCLASS
	}
	var addrs []netip.Addr
	for range an {
		if off, err = skipName(m, off); err != nil {
			return nil, err
		}
		if off+10 > len(m) {
			return nil, errors.New("a record cut short")
		}
		typ, rdlen := binary.BigEndian.Uint16(m[off:]), int(binary.BigEndian.Uint16(m[off+8:]))
		off += 10
		if off+rdlen > len(m) {
			return nil, errors.New("record data cut short")
		}
		if typ == 1 && rdlen == 4 {
			addrs = append(addrs, netip.AddrFrom4([4]byte(m[off:off+4])))
		}
		off += rdlen
	}
	return addrs, nil
}

// skipName steps over a name: labels, ending in the root label or in a
// 2-byte compression pointer (RFC 1035 section 4.1.4).
func skipName(m []byte, off int) (int, error) {
	for off < len(m) {
		switch l := int(m[off]); {
		case l == 0:
			return off + 1, nil
		case l&0xc0 == 0xc0:
			return off + 2, nil
		default:
			off += 1 + l
		}
	}
	return 0, errors.New("a name runs past the end of the message")
}
