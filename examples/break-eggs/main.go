// Breaking a few eggs: what goes wrong at each layer, and how the error
// says where. Each mistake is made on purpose, on loopback.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// 1. Bad input: caught by the parser, before any socket exists.
	_, err := endpoint.Parse("tcp://127.0.0.1:66000")
	fmt.Fprintf(out, "bad port:        %v\n", err)

	// 2. A name that cannot resolve: the application layer (DNS) fails.
	_, err = endpoint.Dial(ctx, endpoint.MustParse("tcp://no-such-host.invalid:80"))
	fmt.Fprintf(out, "unknown host:    %v\n", err)

	// 3. Nothing listens: the other host's TCP answers with RST.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	closed := l.Addr().String()
	l.Close()
	_, err = net.Dial("tcp", closed)
	fmt.Fprintf(out, "closed port:     refused=%v (%v)\n", errors.Is(err, syscall.ECONNREFUSED), err)

	// 4. A peer that never answers: only a timeout tells.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer silent.Close()
	c, err := net.Dial("tcp", silent.Addr().String()) // the kernel accepts; no one reads or writes
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	fmt.Fprintf(out, "silent peer:     timeout=%v (%v)\n", errors.As(err, &ne) && ne.Timeout(), err)

	// 5. Writing after the peer has gone: a reset, or a broken pipe.
	peer, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer peer.Close()
	w, err := net.Dial("tcp", peer.Addr().String())
	if err != nil {
		return err
	}
	defer w.Close()
	s, err := peer.Accept()
	if err != nil {
		return err
	}
	s.(*net.TCPConn).SetLinger(0) // close with RST rather than FIN
	s.Close()
	time.Sleep(50 * time.Millisecond) // let the RST arrive
	_, err = w.Write([]byte("anyone there?"))
	fmt.Fprintf(out, "peer gone:       reset=%v (%v)\n", errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), err)
	return nil
}
