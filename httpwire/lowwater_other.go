//go:build !linux

package httpwire

import "syscall"

// lowWater batches reads with SO_RCVLOWAT on Linux; elsewhere reads are
// left as they are.
type lowWater struct{}

func newLowWater(syscall.Conn, int) *lowWater { return nil }
func (*lowWater) before(int64)                {}
func (*lowWater) reset() bool                 { return true }
