package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// LinkType is the link type of packets the capture delivers (for a pcap
// file's header).
func (l *Live) LinkType() (layers.LinkType, error) {
	if l.Interface == "" || l.Interface == "any" {
		return layers.LinkTypeLinuxSLL, nil
	}
	ifi, err := net.InterfaceByName(l.Interface)
	if err != nil {
		return 0, fmt.Errorf("capture: interface %q: %w", l.Interface, err)
	}
	if ifi.Flags&net.FlagLoopback != 0 || len(ifi.HardwareAddr) == 6 {
		return layers.LinkTypeEthernet, nil
	}
	return layers.LinkTypeRaw, nil
}

// Run captures until Count packets or the end of ctx, giving fn each
// packet's bytes and time. The bytes are valid only until fn returns
// (they are the kernel's ring, read in place): fn copies what it keeps. On loopback every packet is seen
// once, not once out and once in, as libpcap has it.
func (l *Live) Run(ctx context.Context, fn func(data []byte, length int, at time.Time) error) (Stats, error) {
	var st Stats
	link, err := l.LinkType()
	if err != nil {
		return st, err
	}
	typ, ifindex := unix.SOCK_RAW, 0
	if link == layers.LinkTypeLinuxSLL {
		typ = unix.SOCK_DGRAM
	} else {
		ifi, _ := net.InterfaceByName(l.Interface)
		ifindex = ifi.Index
		if link == layers.LinkTypeRaw {
			typ = unix.SOCK_DGRAM
		}
	}
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return st, ErrPrivilege
	}
	if err != nil {
		return st, fmt.Errorf("capture: socket: %w", err)
	}
	defer unix.Close(fd)
	if ifindex != 0 {
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
			return st, fmt.Errorf("capture: bind to %s: %w", l.Interface, err)
		}
	}
	if l.Filter != nil {
		filter, err := l.Filter.ForLive()
		if err != nil {
			return st, err
		}
		if link != layers.LinkTypeEthernet {
			// The socket hands the filter packets from their network
			// header: the program reads the protocol as the kernel has it.
			if filter, err = filter.ForCookedSocket(); err != nil {
				return st, err
			}
		}
		raw, err := filter.Raw()
		if err != nil {
			return st, err
		}
		prog := make([]unix.SockFilter, len(raw))
		for i, r := range raw {
			prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
		}
		// As libpcap does: a filter that takes nothing first, then the
		// packets queued before it drained, then the real one, so that
		// nothing the filter refuses slips in ahead of it.
		none := []unix.SockFilter{{Code: 0x06}} // ret #0
		unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: 1, Filter: &none[0]})
		for {
			if _, _, err := unix.Recvfrom(fd, make([]byte, 1), unix.MSG_DONTWAIT|unix.MSG_TRUNC); err != nil {
				break
			}
		}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
			return st, fmt.Errorf("capture: attaching the filter: %w", err)
		}
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	// Wake up now and then to see whether ctx has ended.
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	// A TPACKET_V3 ring when the kernel gives one; reads one at a time
	// otherwise.
	r, err := newRing(fd, link == layers.LinkTypeLinuxSLL)
	if err == nil {
		defer r.close()
	}
	// The counters restart when read: read once now, to count from here.
	packetStats(fd)
	if l.Ready != nil {
		l.Ready()
	}
	lo := 0
	if ifi, err := net.InterfaceByName("lo"); err == nil {
		lo = ifi.Index
	}
	snap := l.Snaplen
	if snap <= 0 {
		snap = 262144
	}
	// A packet goes to fn in place (in the ring, or in buf): fn must not
	// keep it. buf[head:] is the packet; a cooked header goes in the head
	// room when there are 16 bytes of it (the ring leaves them:
	// PACKET_RESERVE), else in front of a copy in scratch.
	scratch := make([]byte, 16+4+snap)
	keep := func(buf []byte, head, length int, at time.Time, pkttype uint8, ifindex int, hatype uint16, addr []byte, protocol uint16, vlan uint32, vlanOK bool) error {
		if pkttype == unix.PACKET_OUTGOING && ifindex == lo {
			return nil // loopback: the same packet comes in again
		}
		data := buf[head:]
		data = data[:min(len(data), snap)]
		if vlanOK && link == layers.LinkTypeEthernet && len(data) >= 12 {
			// The kernel took the tag off: put it back, as libpcap does,
			// so that the frame is the one on the wire.
			out := scratch[:len(data)+4]
			copy(out, data[:12])
			binary.BigEndian.PutUint32(out[12:], vlan)
			copy(out[16:], data[12:])
			data, length = out, length+4
		}
		if link == layers.LinkTypeLinuxSLL {
			var out []byte
			if head >= 16 {
				out = buf[head-16 : head+len(data)]
			} else {
				out = scratch[:16+len(data)]
				copy(out[16:], data)
			}
			putSLL(out, pkttype, hatype, addr, protocol)
			data, length = out, length+16
		}
		st.Captured++
		return fn(data, length, at)
	}
	if r != nil {
		// The ring: a block of packets at a time, with no system call
		// for each.
		errEnough := errors.New("enough")
		for l.Count == 0 || st.Captured < l.Count {
			more, err := r.next(ctx, 200*time.Millisecond, func(p *ringPacket) error {
				if err := keep(p.buf, p.head, p.length, p.at, p.pkttype, int(p.ifindex), p.hatype, p.addr, p.protocol, p.vlan, p.vlanOK); err != nil {
					return err
				}
				if l.Count > 0 && st.Captured >= l.Count {
					return errEnough
				}
				return nil
			})
			if errors.Is(err, errEnough) || !more && err == nil {
				break
			}
			if err != nil {
				return st, err
			}
		}
		st.Received, st.Dropped = packetStats(fd)
		return st, nil
	}
	buf := make([]byte, snap)
	for l.Count == 0 || st.Captured < l.Count {
		if ctx.Err() != nil {
			break
		}
		n, from, err := unix.Recvfrom(fd, buf, unix.MSG_TRUNC)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("capture: read: %w", err)
		}
		at := time.Now()
		sll, _ := from.(*unix.SockaddrLinklayer)
		if sll == nil {
			sll = &unix.SockaddrLinklayer{}
		}
		if err := keep(buf[:min(n, len(buf))], 0, n, at, sll.Pkttype, sll.Ifindex, sll.Hatype, sll.Addr[:min(int(sll.Halen), 8)], htons(sll.Protocol), 0, false); err != nil {
			return st, err
		}
	}
	st.Received, st.Dropped = packetStats(fd)
	return st, nil
}

// putSLL writes the 16-byte Linux cooked header (LINKTYPE_LINUX_SLL).
func putSLL(h []byte, pkttype uint8, hatype uint16, addr []byte, protocol uint16) {
	binary.BigEndian.PutUint16(h[0:], uint16(pkttype))
	binary.BigEndian.PutUint16(h[2:], hatype)
	binary.BigEndian.PutUint16(h[4:], uint16(len(addr)))
	copy(h[6:14], addr)
	binary.BigEndian.PutUint16(h[14:], protocol)
}

// packetStats reads PACKET_STATISTICS: packets and drops since the last
// read.
func packetStats(fd int) (packets, drops uint32) {
	s, err := unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return 0, 0
	}
	return s.Packets, s.Drops
}
