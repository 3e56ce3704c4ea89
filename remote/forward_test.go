package remote_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/remote"
)

// upper serves lines back in upper case.
func upper(t *testing.T) string {
	ln := testutil.Listen(t, "tcp")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					b := []byte(sc.Text() + "\n")
					for i, ch := range b {
						if ch >= 'a' && ch <= 'z' {
							b[i] = ch - 32
						}
					}
					c.Write(b)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "through the tunnel\n")
	c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "THROUGH THE TUNNEL\n" {
		t.Errorf("through %s: %q %v", addr, b, err)
	}
}

func TestForwardsThroughOpenSSH(t *testing.T) {
	d := testutil.StartSSHD(t)
	c := dial(t, "box", remote.Options{ConfigFile: d.Config(t, "box"), NoAgent: true})
	target := upper(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	f, err := remote.ParseForward("127.0.0.1:0:" + target)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := c.Local(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, addr.String())

	f, _ = remote.ParseForward("127.0.0.1:0:" + target)
	addr, err = c.Remote(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, addr.String()) // sshd listens on loopback: reachable here too
}

func TestParseForward(t *testing.T) {
	for _, tt := range []struct{ in, listen, to string }{
		{"8080:localhost:80", "127.0.0.1:8080", "localhost:80"},
		{"0.0.0.0:8080:10.0.0.1:80", "0.0.0.0:8080", "10.0.0.1:80"},
		{"[::1]:8080:[2001:db8::1]:80", "[::1]:8080", "[2001:db8::1]:80"},
		{"*:2222:db:5432", "0.0.0.0:2222", "db:5432"},
		{"8080:localhost", "", ""},
		{"8080:localhost:0", "", ""},
		{"x:localhost:80", "", ""},
		{"1:2:3:4:5", "", ""},
		{"[::1:8080:h:80", "", ""},
	} {
		f, err := remote.ParseForward(tt.in)
		if (tt.listen == "") != (err != nil) || f.Listen != tt.listen || f.To != tt.to {
			t.Errorf("ParseForward(%q) = %+v %v, want %s -> %s", tt.in, f, err, tt.listen, tt.to)
		}
	}
}
