package netif

// Counters are an interface's traffic counters since it came up, as
// `ip -s link` shows them.
type Counters struct {
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
	Multicast            uint64 // received
	// SpeedMbps is the link speed in Mbit/s, or 0 where the driver does
	// not say (virtual links, loopback, a link that is down).
	SpeedMbps uint64
	// Alias is the interface's description (`ip link set NAME alias`).
	Alias string
	// Promiscuous says whether the interface takes every frame it sees.
	Promiscuous bool
}
