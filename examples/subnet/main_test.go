package main

import (
	"strings"
	"testing"
)

func TestSubnet(t *testing.T) {
	var out strings.Builder
	if err := run("192.168.0.186/24", &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"address   192.168.0.186   11000000101010000000000010111010 (3232235706)",
		"netmask   255.255.255.0",
		"network   192.168.0.0 ",
		"broadcast 192.168.0.255 ",
		"hosts     254",
		"ipcalc agrees: 192.168.0.0/24",
		"/24     255.255.255.0    254",
		"/30     255.255.255.252  2",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run("2001:db8::/32", &out); err == nil {
		t.Error("IPv6 was taken")
	}
	if err := run("192.168.0.1/33", &out); err == nil {
		t.Error("/33 was taken")
	}
}
