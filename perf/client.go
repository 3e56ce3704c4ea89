package perf

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/latency"
)

// ClientConfig describes a test to run against a [Server].
type ClientConfig struct {
	// Server is the server's tcp:// endpoint (UDP tests use its port too).
	Server endpoint.Endpoint
	Params Params
	// Interval is the time between reports; 0 means a second, -1 none.
	Interval time.Duration
	// OnInterval, if set, gets each report as it is made.
	OnInterval func(Interval)
	// UDPAddr, if set, is where UDP datagrams go instead of Server's
	// address (a path through a forwarder or an impairment, say).
	UDPAddr endpoint.Endpoint
	Dialer  net.Dialer
	// SizeProcs sets GOMAXPROCS to one processor per data stream (two
	// with Bidir), at most the CPU count, while Run runs: see
	// Server.SizeProcs.
	SizeProcs bool
}

// Interval is one periodic report, from the client's side.
type Interval struct {
	Start     float64 `json:"start"` // seconds since the test began
	End       float64 `json:"end"`
	SentBytes int64   `json:"sent_bytes"`
	RecvBytes int64   `json:"recv_bytes"`
	SentBPS   float64 `json:"sent_bps"`
	RecvBPS   float64 `json:"recv_bps"`
}

// RRStats is the outcome of a request/response test.
type RRStats struct {
	Transactions uint64  `json:"transactions"`
	PerSecond    float64 `json:"per_second"`
	Lost         uint64  `json:"lost,omitempty"` // UDP requests without an answer within a second
	P50us        float64 `json:"p50_us"`
	P99us        float64 `json:"p99_us"`
	P999us       float64 `json:"p999_us"`
	MaxUs        float64 `json:"max_us"`
}

// Report is the outcome of a test.
type Report struct {
	Params    Params     `json:"params"`
	Seconds   float64    `json:"seconds"`
	Intervals []Interval `json:"intervals,omitempty"`
	// Up is client to server, as the server received it; Down is server to
	// client, as the client received it.
	Up   *Direction `json:"up,omitempty"`
	Down *Direction `json:"down,omitempty"`
	RR   *RRStats   `json:"rr,omitempty"`
}

// Direction is one direction's totals, measured at its receiver.
type Direction struct {
	SentBytes int64      `json:"sent_bytes"`
	RecvBytes int64      `json:"recv_bytes"`
	Seconds   float64    `json:"seconds"` // the receiver's first to last byte, longest stream
	BPS       float64    `json:"bits_per_second"`
	UDP       []UDPStats `json:"udp,omitempty"` // per stream
	// Lost and LossPercent sum the UDP streams.
	Lost        int64   `json:"lost,omitempty"`
	LossPercent float64 `json:"loss_percent,omitempty"`
	JitterMS    float64 `json:"jitter_ms,omitempty"` // the largest of the streams'
	// RcvbufErrors counts datagrams the receiving host dropped for want of
	// socket buffer: drops on the host, not on the path.
	RcvbufErrors int64 `json:"rcvbuf_errors,omitempty"`
}

// Run runs one test against a perf server.
func Run(ctx context.Context, cfg ClientConfig) (*Report, error) {
	p := cfg.Params
	if err := p.Check(); err != nil {
		return nil, err
	}
	if cfg.SizeProcs {
		procs := max(p.Streams, 1)
		if p.Mode == Bidir {
			procs *= 2
		}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(min(procs, runtime.NumCPU())))
	}
	if !cfg.Server.IsValid() || cfg.Server.IsPacket() || cfg.Server.Scheme == endpoint.Unix {
		return nil, fmt.Errorf("perf: the server is a tcp:// endpoint, not %q", cfg.Server)
	}
	ctl, err := cfg.Dialer.DialContext(ctx, cfg.Server.Network(), cfg.Server.Address())
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	stopCtl := context.AfterFunc(ctx, func() { ctl.Close() })
	defer stopCtl()
	br := bufio.NewReader(ctl)
	enc, dec := json.NewEncoder(ctl), json.NewDecoder(br)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	if err := expectJSON(ctl, br, cfg.Server.Address()); err != nil {
		return nil, err
	}
	var ok ctlMsg
	if err := dec.Decode(&ok); err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	if !ok.OK {
		return nil, fmt.Errorf("the server refused the test: %s", ok.Error)
	}
	r := &client{cfg: cfg, p: &p, enc: enc, dec: dec, rep: &Report{Params: p}}
	if p.Proto == "tcp" {
		err = r.runTCP(ctx)
	} else {
		err = r.runUDP(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return r.rep, nil
}

type client struct {
	cfg       ClientConfig
	p         *Params
	enc       *json.Encoder
	dec       *json.Decoder
	rep       *Report
	sent      atomic.Int64
	recv      atomic.Int64
	start     time.Time
	hist      latency.Histogram
	histMu    sync.Mutex
	txns      atomic.Uint64
	lost      atomic.Uint64
	stopTicks chan struct{}
	ticks     sync.WaitGroup
}

// tick reports intervals until stopTicks closes.
func (r *client) tickStart() {
	r.start = time.Now()
	r.stopTicks = make(chan struct{})
	iv := r.cfg.Interval
	if iv == 0 {
		iv = time.Second
	}
	if iv < 0 {
		return
	}
	r.ticks.Add(1)
	go func() {
		defer r.ticks.Done()
		t := time.NewTicker(iv)
		defer t.Stop()
		last := r.start
		var lastSent, lastRecv int64
		emit := func(now time.Time) {
			s, rv := r.sent.Load(), r.recv.Load()
			d := now.Sub(last).Seconds()
			if d <= 0 {
				return
			}
			in := Interval{Start: last.Sub(r.start).Seconds(), End: now.Sub(r.start).Seconds(), SentBytes: s - lastSent, RecvBytes: rv - lastRecv}
			in.SentBPS, in.RecvBPS = float64(in.SentBytes)*8/d, float64(in.RecvBytes)*8/d
			r.rep.Intervals = append(r.rep.Intervals, in)
			if r.cfg.OnInterval != nil {
				r.cfg.OnInterval(in)
			}
			last, lastSent, lastRecv = now, s, rv
		}
		for {
			select {
			case now := <-t.C:
				emit(now)
			case <-r.stopTicks:
				moved := r.sent.Load() != lastSent || r.recv.Load() != lastRecv
				if now := time.Now(); moved && now.Sub(last) > iv/10 {
					emit(now)
				}
				return
			}
		}
	}()
}

func (r *client) tickStop() {
	close(r.stopTicks)
	r.ticks.Wait()
	r.rep.Seconds = time.Since(r.start).Seconds()
}

func (r *client) end() time.Time {
	if r.p.Bytes > 0 && r.p.Duration == 0 {
		return time.Now().Add(100 * 365 * 24 * time.Hour)
	}
	return time.Now().Add(r.p.Duration)
}

func (r *client) runTCP(ctx context.Context) error {
	p := r.p
	conns := make([]net.Conn, p.Streams)
	defer closeAll(conns)
	for i := range conns {
		c, err := r.cfg.Dialer.DialContext(ctx, r.cfg.Server.Network(), r.cfg.Server.Address())
		if err != nil {
			return fmt.Errorf("data connection %d: %w", i, err)
		}
		conns[i] = c
		if _, err := c.Write(tcpDataHeader(p, i)); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { closeAll(conns) })
	defer stop()
	r.tickStart()
	end := r.end()
	down := &Direction{}
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil && err != nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	for i, c := range conns {
		switch {
		case p.Mode == RR:
			wg.Add(1)
			go func() { defer wg.Done(); fail(r.rrTCP(ctx, c, end)) }()
			continue
		case p.clientSends():
			wg.Add(1)
			go func() { defer wg.Done(); fail(sendTCP(ctx, c, p, p.perStream(i), end, &r.sent)) }()
		}
		if p.serverSends() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first, last, err := recvTCP(c, &r.recv)
				fail(err)
				errMu.Lock()
				if !first.IsZero() {
					down.Seconds = max(down.Seconds, last.Sub(first).Seconds())
				}
				errMu.Unlock()
			}()
		}
	}
	wg.Wait()
	r.tickStop()
	if firstErr != nil {
		return firstErr
	}
	res, err := r.result()
	if err != nil {
		return err
	}
	if p.Mode == RR {
		r.rrReport()
		return nil
	}
	if p.clientSends() {
		up := &Direction{SentBytes: r.sent.Load()}
		for i := range res.RecvBytes {
			up.RecvBytes += res.RecvBytes[i]
			up.Seconds = max(up.Seconds, res.RecvSeconds[i])
		}
		up.BPS = bps(up.RecvBytes, up.Seconds)
		r.rep.Up = up
	}
	if p.serverSends() {
		for _, n := range res.SentBytes {
			down.SentBytes += n
		}
		down.RecvBytes = r.recv.Load()
		down.BPS = bps(down.RecvBytes, down.Seconds)
		r.rep.Down = down
	}
	return nil
}

func bps(bytes int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(bytes) * 8 / secs
}

// result reads control messages up to the server's result.
func (r *client) result() (*sideStats, error) {
	for {
		var m ctlMsg
		if err := r.dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("reading the server's result: %w", err)
		}
		switch {
		case m.Error != "":
			return nil, fmt.Errorf("the server failed the test: %s", m.Error)
		case m.Result != nil:
			return m.Result, nil
		}
	}
}

func (r *client) rrTCP(ctx context.Context, c net.Conn, end time.Time) error {
	req := make([]byte, r.p.Block)
	resp := make([]byte, r.p.Block)
	var h latency.Histogram
	for ctx.Err() == nil && time.Now().Before(end) {
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			return err
		}
		if _, err := readFull(c, resp); err != nil {
			return err
		}
		h.Record(time.Since(t0))
		r.txns.Add(1)
		r.sent.Add(int64(len(req)))
		r.recv.Add(int64(len(resp)))
	}
	r.histMu.Lock()
	r.hist.Merge(&h)
	r.histMu.Unlock()
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	// Wait for the server to finish its side.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	readFull(c, make([]byte, 1))
	return nil
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *client) rrReport() {
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	n := r.txns.Load()
	r.rep.RR = &RRStats{
		Transactions: n, PerSecond: float64(n) / r.rep.Seconds, Lost: r.lost.Load(),
		P50us: us(r.hist.Quantile(0.5)), P99us: us(r.hist.Quantile(0.99)), P999us: us(r.hist.Quantile(0.999)), MaxUs: us(r.hist.Max()),
	}
}

func (r *client) runUDP(ctx context.Context) error {
	p := r.p
	target := r.cfg.Server.Address()
	if r.cfg.UDPAddr.IsValid() {
		target = r.cfg.UDPAddr.Address()
	}
	socks := make([]*net.UDPConn, p.Streams)
	defer func() {
		for _, s := range socks {
			if s != nil {
				s.Close()
			}
		}
	}()
	cookie := p.cookieBytes()
	for i := range socks {
		c, err := r.cfg.Dialer.DialContext(ctx, "udp", target)
		if err != nil {
			return fmt.Errorf("UDP socket %d: %w", i, err)
		}
		socks[i] = c.(*net.UDPConn)
		socks[i].SetReadBuffer(8 << 20)
	}
	stats := make([]*udpRecv, p.Streams)
	for i := range stats {
		stats[i] = &udpRecv{}
	}
	before := RcvbufErrors()
	var readers sync.WaitGroup
	if p.serverSends() {
		hello := make([]byte, udpHeader)
		for i, s := range socks {
			for range 3 {
				putHeader(hello, cookie, i, flagHello, 0, time.Now())
				s.Write(hello)
			}
			readers.Add(1)
			go func() {
				defer readers.Done()
				buf := make([]byte, 65536)
				for {
					n, err := s.Read(buf)
					if err != nil {
						if errors.Is(err, net.ErrClosed) {
							return
						}
						continue // ICMP errors and the like
					}
					now := time.Now()
					if h, ok := parseHeader(buf[:n]); ok && h.cookie == cookie && h.stream == i {
						stats[i].record(h.seq, h.sentAt, n, now)
						r.recv.Add(int64(n))
					}
				}
			}()
		}
	}
	r.tickStart()
	end := r.end()
	sent := make([]uint64, p.Streams)
	var wg sync.WaitGroup
	for i, s := range socks {
		if p.Mode == RR {
			wg.Add(1)
			go func() { defer wg.Done(); sent[i] = r.rrUDP(ctx, s, i, end) }()
		} else if p.clientSends() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sent[i], _ = sendUDP(ctx, func(b []byte) error { _, err := s.Write(b); return err }, p, i, p.perStream(i), end, &r.sent)
			}()
		}
	}
	wg.Wait()
	if err := r.enc.Encode(ctlMsg{Sent: sent}); err != nil {
		return err
	}
	var serverSent []uint64
	var res *sideStats
	for res == nil {
		var m ctlMsg
		if err := r.dec.Decode(&m); err != nil {
			return fmt.Errorf("reading the server's result: %w", err)
		}
		switch {
		case m.Error != "":
			return fmt.Errorf("the server failed the test: %s", m.Error)
		case m.Result != nil:
			res = m.Result
		case m.Sent != nil:
			serverSent = m.Sent
		}
	}
	r.tickStop()
	if p.serverSends() {
		time.Sleep(100 * time.Millisecond) // the last datagrams in flight
	}
	for _, s := range socks {
		s.Close()
	}
	readers.Wait()
	if p.Mode == RR {
		r.rrReport()
		return nil
	}
	if p.clientSends() {
		up := &Direction{SentBytes: r.sent.Load(), UDP: res.UDP, RcvbufErrors: res.RcvbufErrors}
		sumUDP(up)
		r.rep.Up = up
	}
	if p.serverSends() {
		down := &Direction{}
		for i, st := range stats {
			var c uint64
			if i < len(serverSent) {
				c = serverSent[i]
			}
			down.UDP = append(down.UDP, st.finish(c))
			down.SentBytes += int64(c) * int64(p.Block)
		}
		if after := RcvbufErrors(); before >= 0 && after >= 0 {
			down.RcvbufErrors = after - before
		}
		sumUDP(down)
		r.rep.Down = down
	}
	return nil
}

// sumUDP totals the per-stream UDP figures of a direction.
func sumUDP(d *Direction) {
	var sent uint64
	for i := range d.UDP {
		s := &d.UDP[i]
		d.RecvBytes += int64(s.Bytes)
		d.Lost += s.Lost
		sent += s.Sent
		d.Seconds = max(d.Seconds, s.Seconds)
		d.JitterMS = max(d.JitterMS, s.JitterMS)
	}
	if sent > 0 {
		d.LossPercent = float64(d.Lost) / float64(sent) * 100
	}
	d.BPS = bps(d.RecvBytes, d.Seconds)
}

// rrUDP sends numbered requests and waits up to a second for each answer.
func (r *client) rrUDP(ctx context.Context, s *net.UDPConn, stream int, end time.Time) uint64 {
	req := make([]byte, r.p.Block)
	resp := make([]byte, 65536)
	cookie := r.p.cookieBytes()
	var h latency.Histogram
	var seq uint64
	for ctx.Err() == nil && time.Now().Before(end) {
		t0 := time.Now()
		putHeader(req, cookie, stream, 0, seq, t0)
		if _, err := s.Write(req); err != nil {
			break
		}
		s.SetReadDeadline(t0.Add(time.Second))
		for {
			n, err := s.Read(resp)
			if err != nil {
				r.lost.Add(1)
				break
			}
			if hd, ok := parseHeader(resp[:n]); ok && hd.seq == seq {
				h.Record(time.Since(t0))
				r.txns.Add(1)
				r.sent.Add(int64(len(req)))
				r.recv.Add(int64(n))
				break
			}
		}
		seq++
	}
	r.histMu.Lock()
	r.hist.Merge(&h)
	r.histMu.Unlock()
	return seq
}

// ErrOtherProtocol is a peer that does not speak netkit perf's protocol.
var ErrOtherProtocol = errors.New("perf: the peer speaks another protocol")

// expectJSON checks, within a few seconds, that the server answers as a
// netkit perf server does (a JSON document), so that an iperf3 server on
// the same default port is named rather than waited on forever.
func expectJSON(c net.Conn, br *bufio.Reader, server string) error {
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	b, err := br.Peek(1)
	switch {
	case err != nil && isTimeout(err):
		return fmt.Errorf("%w: %s accepted the connection but sent no answer in 3s (an iperf3 server waits for its own client; netkit perf client talks to netkit perf server)", ErrOtherProtocol, server)
	case err != nil:
		return fmt.Errorf("reading the server's answer: %w", err)
	case b[0] != '{':
		hint := ""
		if b[0] < 16 {
			hint = " (a one-byte state, as iperf3 servers send)"
		}
		return fmt.Errorf("%w: %s answered with byte 0x%02x%s; netkit perf client talks to netkit perf server", ErrOtherProtocol, server, b[0], hint)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
