package dnsserver

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/netkit-dev/netkit/server"
)

// tcpIdle is how long a TCP connection may sit without a query (RFC 7766
// section 6.2.3 suggests a few seconds).
const tcpIdle = 10 * time.Second

// TCPServer returns a goroutine-engine server that answers DNS over TCP
// (RFC 7766): queries two-byte length prefixed, any number per
// connection, answered in order; zone transfers too.
func (s *Server) TCPServer(cfg server.Config) *server.Server {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = tcpIdle
	}
	return &server.Server{Config: cfg, Stream: server.StreamFunc(s.serveTCPConn)}
}

func (s *Server) serveTCPConn(ctx context.Context, c net.Conn) {
	src := addrPort(c.RemoteAddr())
	br := bufio.NewReaderSize(c, 4096)
	bw := bufio.NewWriterSize(c, 16384)
	buf := make([]byte, 65535)
	out := make([]byte, 0, 65535)
	for {
		c.SetReadDeadline(time.Now().Add(tcpIdle))
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		q := buf[:n]
		if _, err := io.ReadFull(br, q); err != nil {
			return
		}
		start := time.Now()
		if name, end, ok := questionName(q); ok && len(q) >= end+2 {
			if t := binary.BigEndian.Uint16(q[end:]); t == dns.TypeAXFR || t == dns.TypeIXFR {
				if err := s.transfer(c, bw, q, name, src, start); err != nil {
					return
				}
				continue
			}
		}
		resp := s.serveWire(ctx, q, src, true, start, out[:0])
		if resp == nil {
			continue
		}
		if err := writeFramed(bw, resp); err != nil {
			return
		}
		if br.Buffered() == 0 { // flush when no pipelined query waits
			c.SetWriteDeadline(time.Now().Add(tcpIdle))
			if bw.Flush() != nil {
				return
			}
		}
	}
}

func writeFramed(w *bufio.Writer, msg []byte) error {
	var hdr [2]byte
	binary.BigEndian.PutUint16(hdr[:], uint16(len(msg)))
	w.Write(hdr[:])
	_, err := w.Write(msg)
	return err
}

// transfer answers AXFR (and IXFR, with a full transfer as RFC 1995
// section 4 allows) to allowed clients: the SOA, every record, the SOA
// again, in as many messages as it takes (RFC 5936).
func (s *Server) transfer(c net.Conn, bw *bufio.Writer, q []byte, name string, src netip.AddrPort, start time.Time) error {
	m := new(dns.Msg)
	if err := m.Unpack(q); err != nil || m.Response || len(m.Question) != 1 {
		if r := formErr(q); r != nil {
			writeFramed(bw, r)
		}
		return bw.Flush()
	}
	r := new(dns.Msg)
	r.SetReply(m)
	z := s.zones.Load().Find(name)
	switch {
	case !s.transferAllowed(src.Addr()):
		r.Rcode = dns.RcodeRefused
		s.stats.transfersRefused.Add(1)
	case z == nil || z.Origin != dns.CanonicalName(name):
		r.Rcode = dns.RcodeNotAuth // RFC 5936 section 2.2.1
	}
	if r.Rcode != dns.RcodeSuccess {
		wire, err := r.Pack()
		if err != nil {
			return err
		}
		s.stats.count(wire, true)
		s.logWire(start, src, "tcp", q, wire, "transfer")
		writeFramed(bw, wire)
		return bw.Flush()
	}
	s.stats.transfers.Add(1)
	rrs := append(z.Records(), z.SOA)
	var total int
	var first []byte
	for len(rrs) > 0 {
		r := new(dns.Msg)
		r.SetReply(m)
		r.Authoritative = true
		r.Compress = true
		// Fill each message up to about 16 KiB.
		n := 0
		for n < len(rrs) && r.Len() < 16000 {
			r.Answer = append(r.Answer, rrs[n])
			n++
		}
		rrs = rrs[n:]
		if total > 0 {
			r.Question = nil // RFC 5936 section 2.2: the question only in the first
		}
		wire, err := r.Pack()
		if err != nil {
			return err
		}
		if first == nil {
			first = wire
		}
		total += len(wire)
		c.SetWriteDeadline(time.Now().Add(tcpIdle))
		if err := writeFramed(bw, wire); err != nil {
			return err
		}
	}
	s.logger().Info("zone transfer", "zone", z.Origin, "client", src.String(), "records", z.Len()+1, "bytes", total)
	s.stats.count(first, true)
	s.logWire(start, src, "tcp", q, first, "transfer")
	return bw.Flush()
}

func (s *Server) transferAllowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.AllowTransfer {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
