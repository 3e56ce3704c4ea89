package perf

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// TestIperf3Meets: netkit perf and iperf3 share a default port; each side
// names the other within seconds instead of hanging or resetting.
func TestIperf3Meets(t *testing.T) {
	iperf3 := testutil.Program(t, "iperf3")

	// Our client against an iperf3 server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	srv := exec.Command(iperf3, "-s", "-1", "-B", "127.0.0.1", "-p", port)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	var rep *Report
	start := time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		rep, err = Run(context.Background(), ClientConfig{Server: endpoint.MustParse("tcp://127.0.0.1:" + port), Params: Params{Proto: "tcp", Streams: 1, Duration: time.Second}})
		if err == nil || !strings.Contains(err.Error(), "refused") {
			break // iperf3 is up, or something other than "not yet"
		}
		start = time.Now()
	}
	if !errors.Is(err, ErrOtherProtocol) || rep != nil {
		t.Fatalf("against iperf3: %v, want ErrOtherProtocol", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("it took %s to notice", d)
	}

	// An iperf3 client against our server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	buf := &testutil.SyncBuffer{}
	s := &Server{Logger: slog.New(slog.NewTextHandler(buf, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	out, err := exec.Command(iperf3, "-c", "127.0.0.1", "-p", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), "-t", "1", "--connect-timeout", "3000").CombinedOutput()
	cancel()
	<-done
	if err == nil {
		t.Errorf("iperf3 succeeded against netkit perf server:\n%s", out)
	}
	if !strings.Contains(buf.String(), "a client spoke another protocol") {
		t.Errorf("the server logged nothing of it: %q", buf.String())
	}
}
