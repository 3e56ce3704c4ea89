package perf_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/perf"
	"github.com/netkit-dev/netkit/server"
)

// Load an echo server for a moment: every echoed byte is checked, and the
// latency percentiles come back with the rate.
func ExampleRunEcho() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &server.Server{Handler: inetd.Echo{}}
	go srv.Serve(context.Background(), l)
	defer srv.Shutdown(context.Background())

	target, _ := endpoint.FromAddr(l.Addr())
	res, err := perf.RunEcho(context.Background(), perf.EchoConfig{
		Target: target, Conns: 4, Duration: 200 * time.Millisecond, Warmup: -1,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Requests > 0, res.Errors, res.P50 <= res.P99)
	// Output: true 0 true
}
