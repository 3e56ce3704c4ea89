package perf

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mode is what a path test measures.
type Mode string

const (
	Send  Mode = "send"  // client to server
	Recv  Mode = "recv"  // server to client (-R)
	Bidir Mode = "bidir" // both at once
	RR    Mode = "rr"    // request/response latency
)

// Params describe a test; the client sends them to the server.
type Params struct {
	Proto    string        `json:"proto"` // "tcp" or "udp"
	Mode     Mode          `json:"mode"`
	Streams  int           `json:"streams"`
	Duration time.Duration `json:"duration"`
	Bytes    int64         `json:"bytes,omitempty"`   // stop after this many bytes per direction, instead of Duration
	Block    int           `json:"block"`             // bytes per write or datagram
	Bitrate  float64       `json:"bitrate,omitempty"` // bits per second per stream; 0 is unlimited (TCP)
	Cookie   string        `json:"cookie"`
}

const (
	tcpMagic  = "NKPD"
	udpMagic  = "NKPU"
	udpHeader = 32 // magic 4, cookie 8, stream 2, flags 2, seq 8, sent-at 8
	flagHello = 1
	// DefaultPort is the port a perf server listens on by default (iperf3's).
	DefaultPort = 5201
	maxStreams  = 128
	maxBlock    = 4 << 20
)

// Check fills in defaults and checks the ranges.
func (p *Params) Check() error {
	switch p.Proto {
	case "":
		p.Proto = "tcp"
	case "tcp", "udp":
	default:
		return fmt.Errorf("protocol %q: use tcp or udp", p.Proto)
	}
	switch p.Mode {
	case "":
		p.Mode = Send
	case Send, Recv, Bidir, RR:
	default:
		return fmt.Errorf("mode %q: use send, recv, bidir or rr", p.Mode)
	}
	if p.Streams == 0 {
		p.Streams = 1
	}
	if p.Streams < 0 || p.Streams > maxStreams {
		return fmt.Errorf("%d streams: use 1-%d", p.Streams, maxStreams)
	}
	if p.Duration == 0 && p.Bytes == 0 {
		p.Duration = 10 * time.Second
	}
	if p.Duration < 0 || p.Bytes < 0 {
		return errors.New("the duration and the byte count may not be negative")
	}
	if p.Block == 0 {
		switch {
		case p.Mode == RR && p.Proto == "udp":
			p.Block = udpHeader
		case p.Mode == RR:
			p.Block = 1
		case p.Proto == "udp":
			p.Block = 1448
		default:
			// 256 KiB writes against 128 KiB reads: the pair measured
			// fastest on loopback (bench/perf.sh).
			p.Block = 256 << 10
		}
	}
	lo, hi := 1, maxBlock
	if p.Proto == "udp" {
		lo, hi = udpHeader, 65507 // the header; the largest UDP payload over IPv4
	}
	if p.Block < lo || p.Block > hi {
		return fmt.Errorf("block size %d: use %d-%d for %s", p.Block, lo, hi, p.Proto)
	}
	if p.Bitrate < 0 {
		return errors.New("the bitrate may not be negative")
	}
	if p.Proto == "udp" && p.Bitrate == 0 && p.Mode != RR {
		p.Bitrate = 1e6 // as iperf3: UDP without a rate would only measure drops
	}
	if p.Cookie == "" {
		var b [8]byte
		rand.Read(b[:])
		p.Cookie = fmt.Sprintf("%x", b)
	}
	if len(p.Cookie) != 16 {
		return fmt.Errorf("cookie %q: 16 hex digits", p.Cookie)
	}
	return nil
}

func (p *Params) cookieBytes() [8]byte {
	var c [8]byte
	for i := range c {
		v, _ := strconv.ParseUint(p.Cookie[2*i:2*i+2], 16, 8)
		c[i] = byte(v)
	}
	return c
}

// clientSends and serverSends say who sends in a mode.
func (p *Params) clientSends() bool { return p.Mode == Send || p.Mode == Bidir || p.Mode == RR }
func (p *Params) serverSends() bool { return p.Mode == Recv || p.Mode == Bidir }

// perStream splits Bytes across the streams.
func (p *Params) perStream(i int) int64 {
	if p.Bytes == 0 {
		return 0
	}
	n := p.Bytes / int64(p.Streams)
	if int64(i) < p.Bytes%int64(p.Streams) {
		n++
	}
	return max(n, 1)
}

// UDPStats is what a UDP receiver saw on one stream.
type UDPStats struct {
	Received    uint64  `json:"received"`     // datagrams, duplicates excluded
	Bytes       uint64  `json:"bytes"`        // payload bytes received
	Sent        uint64  `json:"sent"`         // datagrams the sender sent (from its report)
	Lost        int64   `json:"lost"`         // sent - received
	LossPercent float64 `json:"loss_percent"` //
	OutOfOrder  uint64  `json:"out_of_order"` // arrived after a later one
	Duplicates  uint64  `json:"duplicates"`   //
	JitterMS    float64 `json:"jitter_ms"`    // RFC 3550 section 6.4.1
	Seconds     float64 `json:"seconds"`      // first to last datagram
}

// udpRecv is a UDP receiver's running count for one stream.
type udpRecv struct {
	mu          sync.Mutex
	st          UDPStats
	seen        []uint64 // bitset of sequence numbers
	maxSeq      uint64
	any         bool
	jitter      float64 // seconds
	prevTransit float64
	first, last time.Time
	closed      bool
}

// record counts one datagram with its sequence number and send time.
func (s *udpRecv) record(seq uint64, sentAt int64, n int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	w := seq / 64
	if w >= 1<<26 { // 4G datagrams: past any sane test; do not grow further
		return
	}
	for uint64(len(s.seen)) <= w {
		s.seen = append(s.seen, 0)
	}
	if s.seen[w]&(1<<(seq%64)) != 0 {
		s.st.Duplicates++
		return
	}
	s.seen[w] |= 1 << (seq % 64)
	s.st.Received++
	s.st.Bytes += uint64(n)
	if !s.any {
		s.first = now
	}
	s.last = now
	if s.any && seq < s.maxSeq {
		s.st.OutOfOrder++
	}
	// Transit time, on the sender's clock against ours: only its changes
	// matter (RFC 3550: J += (|D| - J) / 16).
	transit := now.Sub(time.Unix(0, sentAt)).Seconds()
	if s.any {
		d := math.Abs(transit - s.prevTransit)
		s.jitter += (d - s.jitter) / 16
	}
	s.prevTransit = transit
	if !s.any || seq > s.maxSeq {
		s.maxSeq = seq
	}
	s.any = true
}

// finish closes the count with the sender's report of what it sent.
func (s *udpRecv) finish(sent uint64) UDPStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	st := s.st
	st.Sent = sent
	st.Lost = int64(sent) - int64(st.Received)
	if sent > 0 {
		st.LossPercent = float64(st.Lost) / float64(sent) * 100
	}
	st.JitterMS = s.jitter * 1000
	if s.any {
		st.Seconds = s.last.Sub(s.first).Seconds()
	}
	return st
}

// putHeader writes a UDP datagram's header.
func putHeader(b []byte, cookie [8]byte, stream int, flags uint16, seq uint64, at time.Time) {
	copy(b, udpMagic)
	copy(b[4:12], cookie[:])
	binary.BigEndian.PutUint16(b[12:], uint16(stream))
	binary.BigEndian.PutUint16(b[14:], flags)
	binary.BigEndian.PutUint64(b[16:], seq)
	binary.BigEndian.PutUint64(b[24:], uint64(at.UnixNano()))
}

type udpHdr struct {
	cookie [8]byte
	stream int
	flags  uint16
	seq    uint64
	sentAt int64
}

func parseHeader(b []byte) (udpHdr, bool) {
	if len(b) < udpHeader || string(b[:4]) != udpMagic {
		return udpHdr{}, false
	}
	var h udpHdr
	copy(h.cookie[:], b[4:12])
	h.stream = int(binary.BigEndian.Uint16(b[12:]))
	h.flags = binary.BigEndian.Uint16(b[14:])
	h.seq = binary.BigEndian.Uint64(b[16:])
	h.sentAt = int64(binary.BigEndian.Uint64(b[24:]))
	return h, true
}

// RcvbufErrors reads the host's count of UDP datagrams dropped because a
// socket's receive buffer was full (/proc/net/snmp, Udp: RcvbufErrors),
// for the network namespace of the calling process; -1 when unknown.
func RcvbufErrors() int64 {
	f, err := os.Open("/proc/net/snmp")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var names []string
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(fields) {
				v, err := strconv.ParseInt(fields[i], 10, 64)
				if err == nil {
					return v
				}
			}
		}
		return -1
	}
	return -1
}

// control message types, one JSON object per line.
type ctlMsg struct {
	OK     bool       `json:"ok,omitempty"`
	Error  string     `json:"error,omitempty"`
	Sent   []uint64   `json:"sent,omitempty"`   // UDP datagrams sent per stream, by the side that sent
	Result *sideStats `json:"result,omitempty"` // the server's side, at the end
}

// sideStats is one side's view of a finished test.
type sideStats struct {
	RecvBytes    []int64    `json:"recv_bytes,omitempty"`   // TCP bytes received per stream
	RecvSeconds  []float64  `json:"recv_seconds,omitempty"` // first to last byte per stream
	SentBytes    []int64    `json:"sent_bytes,omitempty"`
	UDP          []UDPStats `json:"udp,omitempty"`
	RcvbufErrors int64      `json:"rcvbuf_errors"`
}
