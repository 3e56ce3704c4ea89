package endpoint_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/testutil"
)

func TestTLS(t *testing.T) {
	cert, pool := testutil.SelfSigned(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lc := endpoint.ListenConfig{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	l, err := lc.Listen(ctx, endpoint.MustParse("tls://127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "secret")
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	e := endpoint.MustParse("tls://127.0.0.1:0").WithPort(uint16(port))

	d := endpoint.Dialer{TLSConfig: &tls.Config{RootCAs: pool}}
	c, err := d.Dial(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "secret" {
		t.Errorf("read %q over TLS", b)
	}

	// The system roots do not trust the test certificate.
	if _, err := endpoint.Dial(ctx, e); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
}
