//go:build !linux

package eventloop

import (
	"errors"
	"time"
)

var errUnsupported = errors.New("eventloop: this engine needs Linux (epoll)")

type loop struct {
	quit    bool
	drainAt time.Time
}

type listener struct{}

func newLoop(*Server) (*loop, error)     { return nil, errUnsupported }
func newListener(any) (*listener, error) { return nil, errUnsupported }
func (*listener) close()                 {}
func (*loop) run()                       {}
func (*loop) post(func())                {}
func (*loop) closeFDs()                  {}
func (*loop) addListener(*listener)      {}
func (*loop) removeListener(*listener)   {}
func (*loop) abortAll(error)             {}
