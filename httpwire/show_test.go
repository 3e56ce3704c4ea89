package httpwire

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWireLines(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\\b\x01\nc\r\n", "> a\\\\b\\x01\\n\n> c\n"},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "> GET / HTTP/1.1\n> Host: x\n> \n"},
		{"\x1b[2Jtail", "> \\x1b[2Jtail\n"}, // no escape reaches the terminal
		{"tab\there", "> tab\there\n"},
	}
	for _, tt := range tests {
		if got := WireLines(">", []byte(tt.in)); got != tt.want {
			t.Errorf("WireLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseHeaderFlags(t *testing.T) {
	h, omit, err := ParseHeaderFlags([]string{"X-A: 1", "Accept:", "X-Empty;", "X-B:  two words  "})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0] != (Field{"X-A", "1"}) || h[1] != (Field{"X-Empty", ""}) || h[2] != (Field{"X-B", "two words"}) {
		t.Errorf("header %+v", h)
	}
	if len(omit) != 1 || omit[0] != "Accept" {
		t.Errorf("omit %q", omit)
	}
	for _, bad := range []string{"no colon", "Bad Name: x", "X: a\rb"} {
		if _, _, err := ParseHeaderFlags([]string{bad}); err == nil {
			t.Errorf("ParseHeaderFlags(%q) took it", bad)
		}
	}
}

func TestPhases(t *testing.T) {
	tm := Timing{DNS: 1 * time.Millisecond, Connect: 3 * time.Millisecond, TLS: 3 * time.Millisecond, Sent: 4 * time.Millisecond, FirstByte: 9 * time.Millisecond, Total: 10 * time.Millisecond}
	u, _ := url.Parse("http://example.com/")
	ps := tm.Phases(u, false)
	if len(ps) != 6 || ps[0].Took != time.Millisecond || ps[1].Took != 2*time.Millisecond || !ps[2].Skipped || ps[3].Took != time.Millisecond || ps[5].At != 10*time.Millisecond {
		t.Errorf("phases %+v", ps)
	}
	u, _ = url.Parse("https://192.0.2.1/")
	if ps := tm.Phases(u, true); !ps[0].Skipped || !ps[1].Skipped || !ps[2].Skipped || ps[3].Took != 4*time.Millisecond {
		t.Errorf("reused: %+v", ps)
	}
}

func TestOutput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "body")
	o, err := CreateOutput(path)
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("half"))
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the file is visible before Commit: %v", err)
	}
	o.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("Abort left %v", ents)
	}
	o, _ = CreateOutput(path)
	o.Write([]byte("whole"))
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	o.Abort() // after Commit: nothing
	if b, err := os.ReadFile(path); err != nil || string(b) != "whole" {
		t.Errorf("committed %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || strings.Contains(ents[0].Name(), "part") {
		t.Errorf("left %v", ents)
	}
	null, err := CreateOutput(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	null.Write([]byte("x"))
	if err := null.Commit(); err != nil {
		t.Errorf("/dev/null: %v", err)
	}
}
