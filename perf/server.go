package perf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Server answers path tests from [Run]: any number at once, TCP data
// connections and UDP datagrams on the same port as the control
// connections.
type Server struct {
	// Logger gets one line per test; nil logs nothing.
	Logger *slog.Logger
	// OnStreams, if set, is told the number of data streams in flight
	// whenever it changes.
	OnStreams func(n int)
	// SizeProcs sizes the Go scheduler to the work: GOMAXPROCS is one
	// processor per data stream in flight, at least one and at most the
	// CPU count, while Serve runs (restored after). Idle processors spin
	// looking for work, and on a host that runs both ends of a test they
	// take CPU from the other end. Set it only in a program that does
	// nothing else, such as netkit perf server.
	SizeProcs bool

	mu      sync.Mutex
	tests   map[[8]byte]*serverTest
	pc      net.PacketConn
	streams int
	wg      sync.WaitGroup
}

type dataConn struct {
	stream int
	c      net.Conn
}

type serverTest struct {
	p     Params
	conns chan dataConn
	udp   []*udpRecv
	addrs []atomic.Pointer[net.UDPAddr] // each stream's client address, from its hello
	hello chan struct{}
	nhell atomic.Int32
}

// Serve answers tests arriving on l (control and TCP data) and pc (UDP
// data; nil for TCP only) until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener, pc net.PacketConn) error {
	if s.SizeProcs {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	s.mu.Lock()
	s.tests, s.pc = make(map[[8]byte]*serverTest), pc
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		l.Close()
		if pc != nil {
			pc.Close()
		}
	})
	defer stop()
	if pc != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.readUDP(pc) }()
	}
	var err error
	for {
		var c net.Conn
		c, err = l.Accept()
		if err != nil {
			break
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.handle(ctx, c) }()
	}
	l.Close()
	if pc != nil {
		pc.Close()
	}
	s.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Server) notify() {
	if s.OnStreams == nil && !s.SizeProcs {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Under the lock, so the calls come in order.
	if s.SizeProcs {
		runtime.GOMAXPROCS(min(max(s.streams, 1), runtime.NumCPU()))
	}
	if s.OnStreams != nil {
		s.OnStreams(s.streams)
	}
}

func (s *Server) log(msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Info(msg, args...)
	}
}

// handle reads the first bytes of a connection: data or control.
func (s *Server) handle(ctx context.Context, c net.Conn) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var first [4]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		c.Close()
		return
	}
	if string(first[:]) == tcpMagic {
		var rest [10]byte
		if _, err := io.ReadFull(c, rest[:]); err != nil {
			c.Close()
			return
		}
		var cookie [8]byte
		copy(cookie[:], rest[:8])
		stream := int(rest[8])<<8 | int(rest[9])
		s.mu.Lock()
		t := s.tests[cookie]
		s.mu.Unlock()
		if t == nil || stream >= t.p.Streams {
			c.Close()
			return
		}
		c.SetReadDeadline(time.Time{})
		select {
		case t.conns <- dataConn{stream, c}:
		default:
			c.Close() // more connections than streams
		}
		return
	}
	defer c.Close()
	if first[0] != '{' {
		// Not our control message. An iperf3 client sends a 37-byte
		// cookie first: read it, so the close is a FIN and not a reset,
		// and say what happened.
		c.SetReadDeadline(time.Now().Add(time.Second))
		io.CopyN(io.Discard, c, 33)
		if s.Logger != nil {
			s.Logger.Warn("a client spoke another protocol; netkit perf server talks to netkit perf client", "client", c.RemoteAddr(), "first_bytes", fmt.Sprintf("%q", first[:]), "hint", "iperf3 clients start with a 37-byte cookie")
		}
		return
	}
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(first[:]), c))
	dec := json.NewDecoder(br)
	enc := json.NewEncoder(c)
	var p Params
	if err := dec.Decode(&p); err != nil {
		enc.Encode(ctlMsg{Error: "the first message must be the test's parameters: " + err.Error()})
		return
	}
	if err := p.Check(); err != nil {
		enc.Encode(ctlMsg{Error: err.Error()})
		return
	}
	c.SetReadDeadline(time.Time{})
	t := &serverTest{p: p, conns: make(chan dataConn, p.Streams), hello: make(chan struct{})}
	t.addrs = make([]atomic.Pointer[net.UDPAddr], p.Streams)
	for range p.Streams {
		t.udp = append(t.udp, &udpRecv{})
	}
	cookie := p.cookieBytes()
	s.mu.Lock()
	if s.tests[cookie] != nil {
		s.mu.Unlock()
		enc.Encode(ctlMsg{Error: "a test with this cookie is running"})
		return
	}
	if p.Proto == "udp" && s.pc == nil {
		s.mu.Unlock()
		enc.Encode(ctlMsg{Error: "this server does not take UDP tests"})
		return
	}
	s.tests[cookie] = t
	s.streams += p.Streams
	s.mu.Unlock()
	s.notify()
	defer func() {
		s.mu.Lock()
		delete(s.tests, cookie)
		s.streams -= p.Streams
		s.mu.Unlock()
		s.notify()
	}()
	if err := enc.Encode(ctlMsg{OK: true}); err != nil {
		return
	}
	s.log("perf test", "client", c.RemoteAddr().String(), "proto", p.Proto, "mode", p.Mode, "streams", p.Streams)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var res *sideStats
	var err error
	if p.Proto == "tcp" {
		res, err = t.runTCP(ctx)
	} else {
		res, err = t.runUDP(ctx, s.pc, dec, enc)
	}
	if err != nil {
		enc.Encode(ctlMsg{Error: err.Error()})
		return
	}
	enc.Encode(ctlMsg{Result: res})
}

// gather waits for every data connection of a test.
func (t *serverTest) gather(ctx context.Context) ([]net.Conn, error) {
	conns := make([]net.Conn, t.p.Streams)
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for got := 0; got < t.p.Streams; {
		select {
		case dc := <-t.conns:
			if conns[dc.stream] != nil {
				dc.c.Close()
				continue
			}
			conns[dc.stream] = dc.c
			got++
		case <-timer.C:
			closeAll(conns)
			return nil, fmt.Errorf("only some of the %d data connections arrived in 10 s; is the port filtered for new connections?", t.p.Streams)
		case <-ctx.Done():
			closeAll(conns)
			return nil, ctx.Err()
		}
	}
	return conns, nil
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

func (t *serverTest) runTCP(ctx context.Context) (*sideStats, error) {
	conns, err := t.gather(ctx)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	stop := context.AfterFunc(ctx, func() { closeAll(conns) })
	defer stop()
	p := &t.p
	res := &sideStats{RecvBytes: make([]int64, p.Streams), RecvSeconds: make([]float64, p.Streams), SentBytes: make([]int64, p.Streams)}
	var wg sync.WaitGroup
	end := time.Now().Add(p.Duration)
	for i, c := range conns {
		if p.Mode == RR {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, _ := io.Copy(c, c) // echo until the client shuts down its side
				res.RecvBytes[i] = n
				if cw, ok := c.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				}
			}()
			continue
		}
		if p.clientSends() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var n atomic.Int64
				first, last, _ := recvTCP(c, &n)
				res.RecvBytes[i] = n.Load()
				if !first.IsZero() {
					res.RecvSeconds[i] = last.Sub(first).Seconds()
				}
			}()
		}
		if p.serverSends() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var n atomic.Int64
				sendTCP(ctx, c, p, p.perStream(i), end, &n)
				res.SentBytes[i] = n.Load()
			}()
		}
	}
	wg.Wait()
	return res, ctx.Err()
}

func (t *serverTest) runUDP(ctx context.Context, pc net.PacketConn, dec *json.Decoder, enc *json.Encoder) (*sideStats, error) {
	p := &t.p
	before := RcvbufErrors()
	// The client's report of what it sent ends the receiving side.
	clientSent := make(chan []uint64, 1)
	go func() {
		var m ctlMsg
		if err := dec.Decode(&m); err != nil {
			close(clientSent)
			return
		}
		clientSent <- m.Sent
	}()
	res := &sideStats{}
	if p.serverSends() {
		select {
		case <-t.hello:
		case <-time.After(5 * time.Second):
			return nil, errors.New("no hello datagram from the client in 5 s: is UDP blocked between us?")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		sent := make([]uint64, p.Streams)
		var wg sync.WaitGroup
		end := time.Now().Add(p.Duration)
		for i := range p.Streams {
			addr := t.addrs[i].Load()
			wg.Add(1)
			go func() {
				defer wg.Done()
				var n atomic.Int64
				sent[i], _ = sendUDP(ctx, func(b []byte) error { _, err := pc.WriteTo(b, addr); return err }, p, i, p.perStream(i), end, &n)
			}()
		}
		wg.Wait()
		if err := enc.Encode(ctlMsg{Sent: sent}); err != nil {
			return nil, err
		}
	}
	var counts []uint64
	select {
	case counts = <-clientSent:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	time.Sleep(100 * time.Millisecond) // the last datagrams in flight
	if p.clientSends() && p.Mode != RR {
		for i, st := range t.udp {
			var c uint64
			if i < len(counts) {
				c = counts[i]
			}
			res.UDP = append(res.UDP, st.finish(c))
		}
	}
	if after := RcvbufErrors(); before >= 0 && after >= 0 {
		res.RcvbufErrors = after - before
	}
	return res, nil
}

// readUDP routes datagrams to their tests.
func (s *Server) readUDP(pc net.PacketConn) {
	if uc, ok := pc.(*net.UDPConn); ok {
		uc.SetReadBuffer(8 << 20)
	}
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		h, ok := parseHeader(buf[:n])
		if !ok {
			continue
		}
		s.mu.Lock()
		t := s.tests[h.cookie]
		s.mu.Unlock()
		if t == nil || h.stream >= t.p.Streams {
			continue
		}
		ua, _ := addr.(*net.UDPAddr)
		switch {
		case h.flags&flagHello != 0:
			if ua != nil && t.addrs[h.stream].CompareAndSwap(nil, ua) {
				if int(t.nhell.Add(1)) == t.p.Streams {
					close(t.hello)
				}
			}
		case t.p.Mode == RR:
			pc.WriteTo(buf[:n], addr)
		default:
			t.udp[h.stream].record(h.seq, h.sentAt, n, now)
		}
	}
}
