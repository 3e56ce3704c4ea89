//go:build unix

package perf

import (
	"errors"
	"syscall"
)

func isNoBuffer(err error) bool { return errors.Is(err, syscall.ENOBUFS) }
