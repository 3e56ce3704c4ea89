package remote

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestResolveFromConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("USER", "me")
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte(`Host web-*
  HostName %h.example.org
  User deploy
  Port 2222
  IdentityFile ~/.ssh/web_%r
  ConnectTimeout 7
  ProxyJump bastion,inner
Host bastion
  HostName 198.51.100.1
  User jump
  ProxyJump none
Host inner
  Port 2200
Host strict-off
  StrictHostKeyChecking no
  UserKnownHostsFile ~/kh1 ~/kh2
Host *
  IdentitiesOnly yes
`), 0o600)
	c, err := loadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dest string
		o    Options
		want Target
	}{
		{dest: "web-1", want: Target{Alias: "web-1", HostName: "web-1.example.org", User: "deploy", Port: 2222,
			IdentityFiles: []string{dir + "/.ssh/web_deploy"}, IdentitiesOnly: true, ProxyJump: []string{"bastion", "inner"},
			ConnectTimeout: 7 * time.Second, KnownHosts: []string{dir + "/.ssh/known_hosts"}, StrictHostKeys: "yes"}},
		// The destination's user and port win over the file; Options
		// over the file too.
		{dest: "ann@web-2:22", o: Options{ProxyJump: "none", ConnectTimeout: time.Second}, want: Target{Alias: "web-2", HostName: "web-2.example.org", User: "ann", Port: 22,
			IdentityFiles: []string{dir + "/.ssh/web_ann"}, IdentitiesOnly: true, ConnectTimeout: time.Second,
			KnownHosts: []string{dir + "/.ssh/known_hosts"}, StrictHostKeys: "yes"}},
		{dest: "strict-off", o: Options{Identities: []string{"/k"}}, want: Target{Alias: "strict-off", HostName: "strict-off", User: "me", Port: 22,
			IdentityFiles: []string{"/k"}, IdentitiesOnly: true, KnownHosts: []string{dir + "/kh1", dir + "/kh2"}, StrictHostKeys: "accept-new"}},
	}
	for _, tt := range tests {
		got, err := tt.o.resolve(c, tt.dest)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("resolve(%q):\n got %+v %v\nwant %+v", tt.dest, got, err, tt.want)
		}
	}
	// The jump chain: bastion (whose own ProxyJump is none), then inner.
	o := Options{}
	target, _ := o.resolve(c, "web-1")
	hops, err := o.hops(c, target, 0)
	if err != nil || len(hops) != 2 || hops[0].Addr() != "198.51.100.1:22" || hops[0].User != "jump" || hops[1].Addr() != "inner:2200" {
		t.Errorf("hops: %+v %v", hops, err)
	}
	loop := filepath.Join(dir, "loop")
	os.WriteFile(loop, []byte("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n"), 0o600)
	lc, _ := loadConfig(loop)
	at, _ := o.resolve(lc, "a")
	if _, err := o.hops(lc, at, 0); err == nil {
		t.Error("a ProxyJump loop was followed")
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("Host x\n  Port ssh\n"), 0o600)
	bc, _ := loadConfig(bad)
	if _, err := o.resolve(bc, "x"); err == nil {
		t.Error("Port ssh accepted")
	}
	if _, err := loadConfig(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing config file named outright was not an error")
	}
}
