package perf

import (
	"context"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/server"
)

func TestHistogram(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Microsecond, 0.99: 990 * time.Microsecond, 0.999: 999 * time.Microsecond} {
		got := h.Quantile(q)
		if d := got - want; d < -want/50 || d > want/50 {
			t.Errorf("Quantile(%v) = %v, want %v within 2%%", q, got, want)
		}
	}
	if h.Count() != 1000 || h.Max() != time.Millisecond {
		t.Errorf("count %d max %v", h.Count(), h.Max())
	}
	var g Histogram
	g.Record(time.Hour)
	h.Merge(&g)
	if h.Count() != 1001 || h.Max() != time.Hour || h.Quantile(1) != time.Hour {
		t.Errorf("after merge: count %d max %v q1 %v", h.Count(), h.Max(), h.Quantile(1))
	}
	if (&Histogram{}).Quantile(0.5) != 0 {
		t.Error("empty quantile")
	}
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 1000, 123456789} {
		if lb := lowerBound(bucketOf(d)); lb > d || d-lb > d/60+1 {
			t.Errorf("bucket of %v starts at %v", d, lb)
		}
	}
}

func TestRunEcho(t *testing.T) {
	s := &server.Server{Handler: inetd.Echo{}}
	l := testutil.Listen(t, "tcp4")
	go s.Serve(context.Background(), l)
	defer s.Shutdown(context.Background())
	e, _ := endpoint.FromAddr(l.Addr())
	res, err := RunEcho(context.Background(), EchoConfig{Target: e, Conns: 4, Payload: 100, Depth: 3, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Requests < 100 || res.P50 <= 0 || res.P99 < res.P50 || res.ReqPerSec <= 0 {
		t.Errorf("result %+v", res)
	}
}

// TestRunEchoCatchesWrongBytes: a server that answers with other bytes is
// caught.
func TestRunEchoCatchesWrongBytes(t *testing.T) {
	s := &server.Server{Handler: liar{}}
	l := testutil.Listen(t, "tcp4")
	go s.Serve(context.Background(), l)
	defer s.Shutdown(context.Background())
	e, _ := endpoint.FromAddr(l.Addr())
	res, err := RunEcho(context.Background(), EchoConfig{Target: e, Duration: 100 * time.Millisecond, Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 1 || res.FirstError == "" {
		t.Errorf("a lying echo server went unnoticed: %+v", res)
	}
	l2 := testutil.Listen(t, "tcp4")
	dead, _ := endpoint.FromAddr(l2.Addr())
	l2.Close()
	if _, err := RunEcho(context.Background(), EchoConfig{Target: dead, Duration: time.Millisecond}); err == nil {
		t.Error("no error when nothing listens")
	}
}

type liar struct{ server.Base }

func (liar) OnData(c server.Conn, p []byte) {
	q := append([]byte(nil), p...)
	q[len(q)-1] ^= 1
	c.Write(q)
}
