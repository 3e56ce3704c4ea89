package capture

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A TPACKET_V3 receive ring: the kernel writes packets into blocks of a
// buffer shared with the process, and hands over a block when it is full
// or after a timeout; the process reads a whole block with no system
// call, then gives it back. This is how tcpdump's libpcap reads on Linux.
const (
	ringBlockSize = 1 << 20 // bytes a block
	ringBlocks    = 32      // 32 MiB in all
	ringFrameSize = 1 << 11 // only for the kernel's accounting in V3
	ringRetire    = 20      // ms: a block is handed over at least this often
)

type ring struct {
	fd  int
	mem []byte
	cur int
}

// newRing sets the socket up for TPACKET_V3 and maps its ring; with
// room, 16 bytes are left before each packet for a cooked header.
func newRing(fd int, room bool) (*ring, error) {
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fmt.Errorf("capture: TPACKET_V3: %w", err)
	}
	if room {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_RESERVE, 16); err != nil {
			return nil, fmt.Errorf("capture: PACKET_RESERVE: %w", err)
		}
	}
	req := unix.TpacketReq3{
		Block_size:     ringBlockSize,
		Block_nr:       ringBlocks,
		Frame_size:     ringFrameSize,
		Frame_nr:       ringBlockSize / ringFrameSize * ringBlocks,
		Retire_blk_tov: ringRetire,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("capture: PACKET_RX_RING: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, ringBlockSize*ringBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("capture: mapping the ring: %w", err)
	}
	return &ring{fd: fd, mem: mem}, nil
}

func (r *ring) close() { unix.Munmap(r.mem) }

// ringPacket is one packet in a block, with its link-layer address.
type ringPacket struct {
	buf      []byte // buf[head:] is the packet, in the ring: copy before the block is released
	head     int    // bytes free before the packet (at most 16)
	length   int    // the packet's length on the wire
	at       time.Time
	pkttype  uint8
	ifindex  int32
	hatype   uint16
	addr     []byte
	protocol uint16 // host order
	vlan     uint32 // TPID<<16 | TCI of a tag the kernel took off, when vlanOK
	vlanOK   bool
}

// The layout of struct tpacket_block_desc and struct tpacket3_hdr, and of
// the sockaddr_ll that follows a packet's header.
const (
	blockStatusOff = 8
	blockNumOff    = 12
	blockFirstOff  = 16
	hdrLen3        = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
)

// next waits (in steps of at most wait, so that ctx is looked at) for the
// next block the kernel has handed over, calls fn with each of its
// packets, and gives it back. It returns false with no error when ctx
// ended.
func (r *ring) next(ctx context.Context, wait time.Duration, fn func(p *ringPacket) error) (bool, error) {
	blk := r.mem[r.cur*ringBlockSize : (r.cur+1)*ringBlockSize]
	status := (*uint32)(unsafe.Pointer(&blk[blockStatusOff]))
	for atomic.LoadUint32(status)&unix.TP_STATUS_USER == 0 {
		if ctx.Err() != nil {
			return false, nil
		}
		fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN | unix.POLLERR}}
		if _, err := unix.Poll(fds, int(wait.Milliseconds())); err != nil && err != unix.EINTR {
			return false, fmt.Errorf("capture: poll: %w", err)
		}
	}
	ne := binary.NativeEndian
	n := ne.Uint32(blk[blockNumOff:])
	off := ne.Uint32(blk[blockFirstOff:])
	var p ringPacket
	var err error
	for i := uint32(0); i < n && err == nil; i++ {
		h := blk[off:]
		next := ne.Uint32(h[0:])
		sec, nsec := ne.Uint32(h[4:]), ne.Uint32(h[8:])
		snap, length := ne.Uint32(h[12:]), ne.Uint32(h[16:])
		status := ne.Uint32(h[20:])
		mac := ne.Uint16(h[24:])
		// hv1: rxhash at 28, vlan_tci at 32, vlan_tpid at 36.
		tci, tpid := ne.Uint32(h[32:]), ne.Uint16(h[36:])
		sa := h[hdrLen3:]
		head := min(max(int(mac)-hdrLen3-20, 0), 16) // 20: sizeof(struct sockaddr_ll)
		p = ringPacket{
			buf:      h[int(mac)-head : uint32(mac)+snap],
			head:     head,
			length:   int(length),
			at:       time.Unix(int64(sec), int64(nsec)),
			protocol: binary.BigEndian.Uint16(sa[2:]),
			ifindex:  int32(ne.Uint32(sa[4:])),
			hatype:   ne.Uint16(sa[8:]),
			pkttype:  sa[10],
			addr:     sa[12 : 12+min(int(sa[11]), 8)],
			vlanOK:   status&unix.TP_STATUS_VLAN_VALID != 0,
		}
		if p.vlanOK {
			if status&unix.TP_STATUS_VLAN_TPID_VALID == 0 {
				tpid = 0x8100
			}
			p.vlan = uint32(tpid)<<16 | tci&0xffff
		}
		err = fn(&p)
		off += next
	}
	atomic.StoreUint32(status, unix.TP_STATUS_KERNEL)
	r.cur = (r.cur + 1) % ringBlocks
	return true, err
}
