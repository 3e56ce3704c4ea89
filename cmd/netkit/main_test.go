package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/cli"
	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"netkit": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the command line tests in testdata/script against the
// real netkit program.
//
// Beyond testscript's own commands, scripts have:
//
//	status N PROG ARGS...   run PROG and fail unless it exits with code N
//	freeport VAR            bind 127.0.0.1:0, close it, and set VAR to the port
//	waitport HOST:PORT      wait (up to 10s) until something accepts there
//	waitlisten [udp] PORT   wait (up to 10s) until a TCP socket listens on
//	                        PORT (or a UDP socket is bound to it), without
//	                        connecting (for one-client servers)
//	waitfile FILE           wait (up to 10s) until FILE exists (and, if a regular file, is not empty)
//	waitstdout RE PROG ARGS...
//	                        run PROG again (up to 10s) until it succeeds with
//	                        stdout matching RE; its output stays for stdout
//	                        and stderr (for state a background command
//	                        records a moment after a client sees it)
//
// and the conditions [ipv6] (::1 can be bound) and [root].
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":     cmdStatus,
			"freeport":   cmdFreeport,
			"waitport":   cmdWaitport,
			"waitfile":   cmdWaitfile,
			"waitlisten": cmdWaitlisten,
			"waitstdout": cmdWaitstdout,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "ipv6":
				return testutil.HasIPv6Loopback(), nil
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, errors.New("unknown condition " + cond)
		},
		RequireExplicitExec: true,
	})
}

func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: bad exit code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		ee, ok := errors.AsType[*exec.ExitError](err)
		if !ok {
			ts.Fatalf("status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdFreeport asks the system for a free port: servers started in the
// background by a script cannot tell it the port they bound.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// cmdWaitport waits until a server started in the background accepts
// connections: a ready signal, not a sleep.
func cmdWaitport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport HOST:PORT")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing accepted on %s within 10s: %v", args[0], err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdWaitstdout runs a command until its output shows what the script
// waits for.
func cmdWaitstdout(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: waitstdout REGEXP PROG ARGS...")
	}
	re, err := regexp.Compile("(?m)" + args[0])
	if err != nil {
		ts.Fatalf("waitstdout: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := ts.Exec(args[1], args[2:]...)
		if err == nil && re.MatchString(ts.ReadFile("stdout")) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s: no stdout matching %q within 10s (last: %v)", args[1], args[0], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdWaitfile waits until a background command has written FILE.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if fi, err := os.Stat(ts.MkAbs(args[0])); err == nil && (fi.Size() > 0 || !fi.Mode().IsRegular()) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within 10s", args[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdWaitlisten waits until /proc/net/tcp or tcp6 shows a listening
// socket on the port: a server that takes one client must not have its
// client taken by the check.
func cmdWaitlisten(ts *testscript.TestScript, neg bool, args []string) {
	proto, state := "tcp", "0A" // LISTEN
	if len(args) == 2 && args[0] == "udp" {
		proto, state, args = "udp", "07", args[1:] // bound (CLOSE)
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitlisten [udp] PORT")
	}
	port, err := strconv.ParseUint(args[0], 10, 16)
	ts.Check(err)
	want := fmt.Sprintf(":%04X 00000000:0000 %s", port, state) // local port, any remote, the state
	want6 := fmt.Sprintf(":%04X 00000000000000000000000000000000:0000 %s", port, state)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, f := range []string{"/proc/net/" + proto, "/proc/net/" + proto + "6"} {
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), want) || strings.Contains(string(b), want6) {
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing listened on port %d within 10s", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
