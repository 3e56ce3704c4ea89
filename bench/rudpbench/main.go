// Command rudpbench moves bytes from a sender to a receiver in one
// process over rudp, QUIC (quic-go) or KCP (kcp-go), optionally through
// an address in between (netkit impair), and prints one JSON line: the
// bytes, the wall time, the goodput and the CPU the process spent, which
// pays for both ends of the transfer with either transport.
//
//	rudpbench -transport rudp -bytes 64M [-via 127.0.0.1:9000 -listen 127.0.0.1:9001]
//
// Without -via the sender dials the receiver directly. With -via, the
// receiver listens on -listen and the sender dials -via: put netkit
// impair --listen udp://VIA --to udp://LISTEN in between. It lives in a
// module of its own so that quic-go and kcp-go never become netkit's
// dependencies.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/rudp"
	"github.com/quic-go/quic-go"
	"github.com/xtaci/kcp-go/v5"
)

func main() {
	transport := flag.String("transport", "rudp", "rudp, rudp-fec (forward error correction on), quic or kcp")
	size := flag.String("bytes", "64M", "bytes to move (K, M, G)")
	listen := flag.String("listen", "127.0.0.1:0", "the receiver's UDP address")
	via := flag.String("via", "", "the address the sender dials (an impairment in front of -listen)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	seconds := flag.Duration("for", 0, "send for this long instead of -bytes (rudp and quic)")
	congestion := flag.String("cc", "", "rudp's congestion control: bbr (default) or cubic")
	window := flag.Int("window", 0, "receive window in packets, rudp's and kcp's (0: rudp's default, 4096 for kcp)")
	flag.Parse()
	if *window < 0 {
		badFlag(fmt.Errorf("-window %d: give a number of packets, or 0 for the default", *window))
	}
	n, err := parseSize(*size)
	if err != nil {
		badFlag(err)
	}
	if *seconds > 0 {
		n = 1 << 62 // until the time is up
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var accept func() (io.ReadCloser, error)
	var dial func(addr string) (io.WriteCloser, error)
	var addr string
	switch *transport {
	case "rudp", "rudp-fec":
		cfg := rudp.Config{Congestion: *congestion, FEC: *transport == "rudp-fec", Window: *window}
		l, err := rudp.Listen("udp", *listen, cfg)
		if err != nil {
			fail(err)
		}
		addr = l.Addr().String()
		accept = func() (io.ReadCloser, error) {
			c, err := l.AcceptRUDP(ctx)
			if err == nil {
				receiverStats = func() any { return c.Stats() }
			}
			return c, err
		}
		dial = func(a string) (io.WriteCloser, error) {
			cfg := cfg
			if path := os.Getenv("RUDPBENCH_TRACE"); path != "" {
				// The sender's events, one line each, for diagnosis.
				f, err := os.Create(path)
				if err != nil {
					return nil, err
				}
				w := bufio.NewWriterSize(f, 1<<20)
				var mu sync.Mutex
				cfg.Trace = func(e rudp.TraceEvent) {
					mu.Lock()
					fmt.Fprintf(w, "%.4f %s %d ack %d sack %v %s\n", e.At.Seconds(), e.Event, e.Seq, e.Ack, e.SACK, e.Reason)
					mu.Unlock()
				}
				flushAtExit = func() { mu.Lock(); w.Flush(); f.Close(); mu.Unlock() }
			}
			c, err := rudp.Dial(ctx, "udp", a, cfg)
			if err != nil {
				return nil, err
			}
			senderStats = func() any { return c.Stats() }
			if os.Getenv("RUDPBENCH_STATS") == "series" {
				go func() {
					t0 := time.Now()
					for range time.Tick(50 * time.Millisecond) {
						st := c.Stats()
						fmt.Fprintf(os.Stderr, "%6.2fs sent %d rexmit %d to %d srtt %v cwnd %d\n", time.Since(t0).Seconds(), st.Sent, st.Retransmitted, st.Timeouts, st.SRTT.Round(100*time.Microsecond), st.Cwnd)
					}
				}()
			}
			return closeWriter{c, c.CloseWrite, c.Done()}, nil
		}
	case "quic":
		// As a power user would: receive windows large enough for a
		// long fat path.
		qc := &quic.Config{MaxStreamReceiveWindow: 32 << 20, MaxConnectionReceiveWindow: 64 << 20, InitialStreamReceiveWindow: 8 << 20, InitialConnectionReceiveWindow: 16 << 20}
		l, err := quic.ListenAddr(*listen, serverTLS(), qc)
		if err != nil {
			fail(err)
		}
		addr = l.Addr().String()
		accept = func() (io.ReadCloser, error) {
			c, err := l.Accept(ctx)
			if err != nil {
				return nil, err
			}
			s, err := c.AcceptStream(ctx)
			if err != nil {
				return nil, err
			}
			return readCloser{s, func() error { return c.CloseWithError(0, "") }}, nil
		}
		dial = func(a string) (io.WriteCloser, error) {
			c, err := quic.DialAddr(ctx, a, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"bench"}}, qc)
			if err != nil {
				return nil, err
			}
			s, err := c.OpenStreamSync(ctx)
			if err != nil {
				return nil, err
			}
			done := make(chan struct{})
			go func() { <-c.Context().Done(); close(done) }()
			return closeWriter{s, s.Close, done}, nil
		}
	case "kcp":
		// Tuned as kcp-go's own turbo mode: no delay, 10 ms interval,
		// fast resend after 2 duplicate acks, no congestion window; large
		// windows; stream mode; no FEC and no encryption.
		tune := func(s *kcp.UDPSession) {
			s.SetNoDelay(1, 10, 2, 1)
			w := 4096
			if *window > 0 {
				w = *window
			}
			s.SetWindowSize(w, w)
			s.SetStreamMode(true)
			s.SetMtu(1400)
			s.SetReadBuffer(4 << 20)
			s.SetWriteBuffer(4 << 20)
			s.SetWriteDelay(false)
			s.SetACKNoDelay(false)
		}
		l, err := kcp.ListenWithOptions(*listen, nil, 0, 0)
		if err != nil {
			fail(err)
		}
		l.SetReadBuffer(4 << 20)
		addr = l.Addr().String()
		accept = func() (io.ReadCloser, error) {
			s, err := l.AcceptKCP()
			if err != nil {
				return nil, err
			}
			tune(s)
			return s, nil
		}
		dial = func(a string) (io.WriteCloser, error) {
			s, err := kcp.DialWithOptions(a, nil, 0, 0)
			if err != nil {
				return nil, err
			}
			tune(s)
			// KCP has no half-close: the receiver stops at the byte
			// count, and the sender waits for it to say so.
			return s, nil
		}
	default:
		fail(fmt.Errorf("unknown transport %q", *transport))
	}
	target := addr
	if *via != "" {
		target = *via
	}

	start := time.Now()
	cpu0 := cpuTime()
	got := make(chan error, 1)
	var received int64
	go func() {
		r, err := accept()
		if err != nil {
			got <- err
			return
		}
		buf := make([]byte, 256<<10)
		for received < n {
			k, err := r.Read(buf)
			received += int64(k)
			if err != nil {
				if err == io.EOF && (received == n || *seconds > 0) {
					break
				}
				got <- fmt.Errorf("after %d bytes: %w", received, err)
				return
			}
		}
		if w, ok := r.(io.Writer); ok && *transport == "kcp" {
			w.Write([]byte{1}) // tell the sender all arrived
		}
		got <- nil
	}()
	w, err := dial(target)
	if err != nil {
		fail(err)
	}
	chunk := make([]byte, 256<<10)
	rand.Read(chunk)
	for sent := int64(0); sent < n; {
		if *seconds > 0 && time.Since(start) > *seconds {
			break
		}
		k := min(int64(len(chunk)), n-sent)
		if _, err := w.Write(chunk[:k]); err != nil {
			fail(fmt.Errorf("write after %d bytes: %w", sent, err))
		}
		sent += k
	}
	if *transport == "kcp" {
		one := make([]byte, 1)
		if _, err := io.ReadFull(w.(io.Reader), one); err != nil {
			fail(err)
		}
	} else {
		w.Close()
	}
	select {
	case err := <-got:
		if err != nil {
			fail(err)
		}
	case <-ctx.Done():
		fail(fmt.Errorf("timed out after %d of %d bytes", received, n))
	}
	wall := time.Since(start).Seconds()
	cpu := cpuTime() - cpu0
	if *seconds > 0 {
		n = received
	}
	flushAtExit()
	if senderStats != nil && os.Getenv("RUDPBENCH_STATS") != "" {
		json.NewEncoder(os.Stderr).Encode(map[string]any{"sender": senderStats(), "receiver": receiverStats()}) // for diagnosis
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"transport": *transport, "bytes": n, "seconds": wall,
		"mbit_per_s": float64(n) * 8 / wall / 1e6, "cpu_s": cpu,
		"cpu_s_per_gib": cpu / (float64(n) / (1 << 30)),
	})
}

// senderStats and receiverStats report the rudp ends' counters (nil for
// the other transports); RUDPBENCH_STATS=1 prints them on stderr.
var senderStats, receiverStats func() any

// flushAtExit writes out RUDPBENCH_TRACE's buffer.
var flushAtExit = func() {}

type closeWriter struct {
	io.Writer
	closeWrite func() error
	done       <-chan struct{}
}

func (c closeWriter) Close() error { return c.closeWrite() }

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

func cpuTime() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func parseSize(arg string) (int64, error) {
	s, mult := arg, int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("-bytes %q: give a positive number of bytes, with K, M or G for KiB, MiB or GiB (64M)", arg)
	}
	return v * mult, nil
}

func serverTLS() *tls.Config {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: []string{"bench"}}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rudpbench:", err)
	os.Exit(1)
}

// badFlag reports a flag's bad value and exits 2, as for bad input.
func badFlag(err error) {
	fmt.Fprintln(os.Stderr, "rudpbench:", err)
	os.Exit(2)
}

var _ net.Addr
