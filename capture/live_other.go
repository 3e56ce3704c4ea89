//go:build !linux

package capture

import (
	"context"
	"errors"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Live captures packets; only on Linux (AF_PACKET).
type Live struct {
	Interface string
	Snaplen   int
	Count     int
	Filter    *Filter
	Ready     func()
}

// Stats are what the kernel counted.
type Stats struct {
	Captured int    `json:"captured"`
	Received uint32 `json:"received"`
	Dropped  uint32 `json:"dropped"`
}

// ErrPrivilege says that capturing needs a privilege the process lacks.
var ErrPrivilege = errors.New("capture: capturing packets needs root or CAP_NET_RAW")

var errUnsupported = errors.New("capture: live capture is built for Linux only (AF_PACKET)")

// LinkType is the link type of packets the capture delivers.
func (l *Live) LinkType() (layers.LinkType, error) { return 0, errUnsupported }

// Run fails: live capture is Linux's.
func (l *Live) Run(context.Context, func([]byte, int, time.Time) error) (Stats, error) {
	return Stats{}, errUnsupported
}
