package capture

import "errors"

// Live captures packets from an interface with an AF_PACKET socket
// (Linux only).
type Live struct {
	// Interface is the interface's name; "any" or empty captures on all,
	// with Linux "cooked" headers (LINUX_SLL) instead of the link's own.
	Interface string
	// Snaplen is the most bytes kept of a packet. If zero, 262144.
	Snaplen int
	// Count stops after that many packets. If zero, at the end of ctx.
	Count int
	// Filter, if set, runs in the kernel: only what it accepts is
	// delivered (and counted). On "any" and on interfaces without
	// Ethernet framing it is relocated to the network header.
	Filter *Filter
	// Ready, if set, is called once the socket is capturing.
	Ready func()
}

// Stats are what the kernel counted, as tcpdump prints at the end.
type Stats struct {
	Captured int    `json:"captured"`
	Received uint32 `json:"received"` // by the socket
	Dropped  uint32 `json:"dropped"`  // by the kernel: the socket's buffer was full
}

// ErrPrivilege says that capturing needs a privilege the process lacks.
var ErrPrivilege = errors.New("capture: capturing packets needs root or CAP_NET_RAW (run with sudo, or give the binary the capability: setcap cap_net_raw+ep $(which netkit))")
