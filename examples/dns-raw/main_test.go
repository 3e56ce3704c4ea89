package main

import (
	"context"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/dnsserver"
)

const zone = `$ORIGIN example.test.
$TTL 300
@    SOA ns hostmaster 1 3600 600 86400 60
@    NS  ns
ns   A   192.0.2.53
www  A   192.0.2.10
www  A   192.0.2.11
`

func TestDNSRaw(t *testing.T) {
	z, err := dnsserver.ParseZone(strings.NewReader(zone), "example.test.", "zone")
	if err != nil {
		t.Fatal(err)
	}
	zs, _ := dnsserver.NewZones(z)
	srv := &dnsserver.Server{}
	srv.SetZones(zs)
	sock, err := dnsserver.Listen(context.Background(), "udp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, []dnsserver.Socket{sock}, dnsserver.RunConfig{}) }()
	defer func() { cancel(); <-done }()

	var out strings.Builder
	if err := run(context.Background(), []string{"-server", sock.UDP.LocalAddr().String(), "www.example.test"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"by hand:   www.example.test has [192.0.2.10 192.0.2.11]",
		"dnsclient: www.example.test has [192.0.2.10 192.0.2.11] (NOERROR)",
		" 01 00 00 01 00 00 00 00 00 00 03 77 77 77 07 65 78 61 6d 70 6c 65 04 74 65 73 74 00 00 01 00 01\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	err = run(context.Background(), []string{"-server", sock.UDP.LocalAddr().String(), "nope.example.test"}, &out)
	if err == nil || !strings.Contains(err.Error(), "rcode 3") {
		t.Errorf("NXDOMAIN: %v", err)
	}
}

// FuzzParse: the hand-written parser never panics on any response.
func FuzzParse(f *testing.F) {
	q, id, _ := query("www.example.test")
	f.Add(q, id)
	f.Add([]byte{0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0}, uint16(1))
	f.Fuzz(func(t *testing.T, m []byte, id uint16) { parse(m, id) })
}
