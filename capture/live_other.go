//go:build !linux

package capture

import (
	"context"
	"errors"
	"time"

	"github.com/gopacket/gopacket/layers"
)

var errUnsupported = errors.New("capture: live capture is built for Linux only (AF_PACKET)")

// LinkType is the link type of packets the capture delivers.
func (l *Live) LinkType() (layers.LinkType, error) { return 0, errUnsupported }

// Run fails: live capture is Linux's.
func (l *Live) Run(context.Context, func([]byte, int, time.Time) error) (Stats, error) {
	return Stats{}, errUnsupported
}
