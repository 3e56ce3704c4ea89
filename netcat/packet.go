package netcat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"sync"
	"time"
)

// PacketConfig is the listening side of netcat over UDP. The zero value
// holds a session with the first peer that sends.
type PacketConfig struct {
	// Keep takes every peer, not only the first: datagrams from all of
	// them are written out, and input lines go to all of them.
	Keep bool
	// Idle forgets peers that sent nothing for this long. If zero: 60s
	// with Keep, never without.
	Idle time.Duration
	// Filter, if set, is asked about each datagram's sender; an error
	// drops the datagram.
	Filter func(netip.AddrPort) error
	// Program, if set, runs once per peer: the peer's datagrams go to its
	// stdin, and what it writes goes back to the peer.
	Program *Program
	// Bridge's CRLF, SendOnly, RecvOnly and Dump apply.
	Bridge Options
	// OnDrop, if set, is told of each datagram that is not taken, and why.
	OnDrop func(from netip.AddrPort, why error)
}

// ErrOtherPeer is the reason a datagram from a second peer is dropped
// without Keep.
var ErrOtherPeer = errors.New("the session is with another peer (use -k)")

// ServePacket serves uc as netcat's UDP listener until ctx ends, and
// closes uc. Each input line is sent as a datagram to the peers; the
// peers' datagrams are written to out.
func ServePacket(ctx context.Context, uc *net.UDPConn, in io.Reader, out io.Writer, cfg PacketConfig) error {
	defer uc.Close()
	if cfg.Bridge.SendOnly && cfg.Bridge.RecvOnly {
		return &ConfigError{"send-only and receive-only exclude each other"}
	}
	if cfg.Program != nil {
		if err := cfg.Program.Check(); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { uc.Close() })
	defer stop()
	idle := cfg.Idle
	if idle == 0 && cfg.Keep {
		idle = 60 * time.Second
	}
	peers := &peerTable{idle: idle, keep: cfg.Keep, uc: uc, prog: cfg.Program}
	defer peers.closeAll()
	if !cfg.Bridge.RecvOnly && cfg.Program == nil {
		go eachLine(in, cfg.Bridge.CRLF, MaxDatagram, func(line []byte) error {
			cfg.Bridge.Dump.Sent(line)
			peers.sendAll(line)
			return nil
		})
	}
	drop := func(from netip.AddrPort, why error) {
		if cfg.OnDrop != nil {
			cfg.OnDrop(from, why)
		}
	}
	buf := make([]byte, 65535)
	for {
		n, from, err := uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("receive on %s: %w", uc.LocalAddr(), err)
		}
		if cfg.Filter != nil {
			if err := cfg.Filter(from); err != nil {
				drop(from, err)
				continue
			}
		}
		if !peers.admit(from) {
			drop(from, ErrOtherPeer)
			continue
		}
		if cfg.Program != nil {
			if err := peers.toProgram(ctx, from, buf[:n]); err != nil {
				drop(from, err)
			}
			continue
		}
		if !cfg.Bridge.SendOnly {
			cfg.Bridge.Dump.Received(buf[:n])
			out.Write(buf[:n])
		}
	}
}

// peerTable tracks the peers of a UDP listener.
type peerTable struct {
	idle time.Duration
	keep bool
	uc   *net.UDPConn
	prog *Program

	mu    sync.Mutex
	peers map[netip.AddrPort]*peer
	first netip.AddrPort
}

type peer struct {
	last  time.Time
	stdin io.WriteCloser // the program's stdin
}

// admit records a datagram's sender and reports whether it belongs to
// the session. It forgets idle peers.
func (u *peerTable) admit(from netip.AddrPort) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.peers == nil {
		u.peers = map[netip.AddrPort]*peer{}
	}
	if !u.keep {
		if !u.first.IsValid() {
			u.first = from
		}
		if from != u.first {
			return false
		}
	}
	now := time.Now()
	for k, p := range u.peers {
		if u.idle > 0 && now.Sub(p.last) > u.idle && k != from {
			if p.stdin != nil {
				p.stdin.Close()
			}
			delete(u.peers, k)
		}
	}
	p := u.peers[from]
	if p == nil {
		p = &peer{}
		u.peers[from] = p
	}
	p.last = now
	return true
}

func (u *peerTable) sendAll(p []byte) {
	u.mu.Lock()
	to := make([]netip.AddrPort, 0, len(u.peers))
	for k := range u.peers {
		to = append(to, k)
	}
	u.mu.Unlock()
	for _, k := range to {
		u.uc.WriteToUDPAddrPort(p, k)
	}
}

// toProgram hands a datagram to the peer's own program, starting it first.
func (u *peerTable) toProgram(ctx context.Context, from netip.AddrPort, p []byte) error {
	u.mu.Lock()
	pr := u.peers[from]
	if pr.stdin == nil {
		cmd := exec.CommandContext(ctx, u.prog.Path, u.prog.Args...)
		cmd.Stderr = u.prog.Stderr
		in, err1 := cmd.StdinPipe()
		out, err2 := cmd.StdoutPipe()
		if err := errors.Join(err1, err2, cmd.Start()); err != nil {
			u.mu.Unlock()
			return fmt.Errorf("netcat: run %s for %s: %w", u.prog.Path, from, err)
		}
		pr.stdin = in
		go func() {
			buf := make([]byte, MaxDatagram)
			for {
				n, err := out.Read(buf)
				if n > 0 {
					u.uc.WriteToUDPAddrPort(buf[:n], from)
				}
				if err != nil {
					cmd.Wait()
					return
				}
			}
		}()
	}
	in := pr.stdin
	u.mu.Unlock()
	in.Write(p)
	return nil
}

func (u *peerTable) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.peers {
		if p.stdin != nil {
			p.stdin.Close()
		}
	}
}
