package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/netkit-dev/netkit/dnsclient"
	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/gateway"
	"github.com/netkit-dev/netkit/rfc"
	"github.com/netkit-dev/netkit/rudp"
	"github.com/netkit-dev/netkit/snmp"
)

// Exit codes, the same for every command.
const (
	exitOK      = 0 // success
	exitFailed  = 1 // the operation failed: refused, timed out, not found, check failed
	exitUsage   = 2 // bad usage or bad input
	exitSignal  = 130
	exitUnknown = exitFailed
)

// exitError carries an exit code with the error that caused it. A nil err
// means the failure was already reported and nothing more is printed.
type exitError struct {
	code      int
	err       error
	showUsage bool // print the command's usage after the message
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError reports bad usage: a missing or extra argument, a bad flag
// value. It exits 2 and prints the command's usage.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...), showUsage: true}
}

// inputError reports bad input that a command read: an endpoint, address or
// file that does not parse. It exits 2 without the usage text.
func inputError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// errSilentFailure exits 1 after the command has reported its own failures.
var errSilentFailure = &exitError{code: exitFailed}

// exitCode maps an error returned by a command to the process exit code.
// Parse errors from netkit's packages count as bad input wherever they
// surface; everything else is a failed operation.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	if _, ok := errors.AsType[*endpoint.ParseError](err); ok {
		return exitUsage
	}
	if _, ok := errors.AsType[*snmp.InputError](err); ok {
		return exitUsage
	}
	if _, ok := errors.AsType[*gateway.ConfigError](err); ok {
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		return exitSignal
	}
	return exitUnknown
}

// hint returns advice for a failed network operation, or "".
func hint(err error) string {
	var dnsErr *net.DNSError
	if _, ok := errors.AsType[*rfc.UnreachableError](err); ok {
		return "without a network, give a mirror with --mirror URL or NETKIT_RFC_MIRROR, or read the cache with --offline"
	}
	switch {
	case errors.Is(err, rudp.ErrNoAnswer):
		return "start netkit receive at that address first, and check that the path lets UDP through"
	case errors.Is(err, rudp.ErrPeerSilent), errors.Is(err, rudp.ErrReset), errors.Is(err, rudp.ErrRefused):
		return "the receiver went away; what arrived is kept there, and sending again resumes"
	case errors.Is(err, snmp.ErrNotIncreasing):
		return "the agent is broken: its answers do not move forward, so the walk stopped rather than loop"
	case isSNMPTimeout(err):
		return "no answer: check the address and port, the SNMP version, and the community or v3 user; an agent drops a wrong community without a word"
	case errors.Is(err, rfc.ErrNotCached):
		return "fetch it once without --offline"
	case errors.Is(err, dnsclient.ErrInvalidName):
		return "names under .invalid never resolve, by RFC 6761"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "the name does not exist in DNS or /etc/hosts; check the spelling"
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return "no DNS server answered in time; check /etc/resolv.conf"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens there, or a firewall rejects it"
	case errors.Is(err, syscall.ECONNRESET):
		return "the peer reset the connection"
	case errors.Is(err, syscall.EADDRINUSE):
		return "another program listens there; pick another port, or port 0 for any free one"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "that address is not on any local interface"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "permission denied; ports below 1024 and raw sockets need root or CAP_NET_BIND_SERVICE"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to that network; see netkit route"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "out of file descriptors; raise the limit with ulimit -n"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out; raise --timeout or check that the peer is up"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out; raise --timeout or check that the peer is up"
	}
	return ""
}

// message renders an error for stderr: "netkit: what failed (advice)".
func message(err error) string {
	msg := "netkit: " + err.Error()
	if h := hint(err); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

func isSNMPTimeout(err error) bool {
	se, ok := errors.AsType[*snmp.Error](err)
	return ok && se.Timeout()
}
