package ftp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/ftp"
)

func TestParseList(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    ftp.Entry
		skip    bool
		wantErr bool
	}{
		{in: "-rw-r--r--    1 1000     1000       123456 Mar 01 14:05 report.pdf",
			want: ftp.Entry{Name: "report.pdf", Type: ftp.File, Size: 123456, ModTime: time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)}},
		{in: "drwxr-xr-x    2 ftp      ftp          4096 Dec 24  2019 old stuff",
			want: ftp.Entry{Name: "old stuff", Type: ftp.Dir, Size: 4096, ModTime: time.Date(2019, 12, 24, 0, 0, 0, 0, time.UTC)}},
		// A date "in the future" is last year's: ls shows times only
		// for the last six months.
		{in: "-rw-r--r-- 1 ann ann 5 Dec 30 09:00 late",
			want: ftp.Entry{Name: "late", Type: ftp.File, Size: 5, ModTime: time.Date(2025, 12, 30, 9, 0, 0, 0, time.UTC)}},
		{in: "lrwxrwxrwx 1 0 0 11 Jan  5 10:00 latest -> release-1.2",
			want: ftp.Entry{Name: "latest", Type: ftp.Link, Size: 11, Link: "release-1.2", ModTime: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}},
		// No group column.
		{in: "-rw-r--r-- 1 ann 42 Feb  3  2024 nogroup",
			want: ftp.Entry{Name: "nogroup", Type: ftp.File, Size: 42, ModTime: time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)}},
		{in: "12-24-19  10:30AM       <DIR>          Windows dir",
			want: ftp.Entry{Name: "Windows dir", Type: ftp.Dir, ModTime: time.Date(2019, 12, 24, 10, 30, 0, 0, time.UTC)}},
		{in: "01-02-20  03:04PM                 1024 a.txt",
			want: ftp.Entry{Name: "a.txt", Type: ftp.File, Size: 1024, ModTime: time.Date(2020, 1, 2, 15, 4, 0, 0, time.UTC)}},
		{in: "total 12", skip: true},
		{in: "drwxr-xr-x 2 ftp ftp 4096 Jan 1 2020 ..", skip: true},
		{in: "-rw-r--r-- 1 a b 1 Jan 1 2020 ../../etc/passwd", wantErr: true},
		{in: "-rw-r--r-- 1 a b -1 Jan 1 2020 neg", wantErr: true},
		{in: "hello world", wantErr: true},
		{in: "01-02-20 03:04PM 1024 ..\\x", wantErr: true},
	}
	for _, tt := range tests {
		got, ok, err := ftp.ParseList(tt.in, now)
		if (err != nil) != tt.wantErr || ok == (tt.skip || tt.wantErr) || (ok && got != tt.want) {
			t.Errorf("ParseList(%q) = %+v %v %v, want %+v", tt.in, got, ok, err, tt.want)
		}
	}
}

func TestParseMLSD(t *testing.T) {
	tests := []struct {
		in      string
		want    ftp.Entry
		skip    bool
		wantErr bool
	}{
		{in: "type=file;size=1024;modify=20201231235959.123;perm=r; a file.txt",
			want: ftp.Entry{Name: "a file.txt", Type: ftp.File, Size: 1024, ModTime: time.Date(2020, 12, 31, 23, 59, 59, 123e6, time.UTC)}},
		{in: "Type=dir;Modify=20200101000000; sub", want: ftp.Entry{Name: "sub", Type: ftp.Dir, ModTime: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{in: "type=OS.unix=slink:/x;size=1; l", want: ftp.Entry{Name: "l", Type: ftp.Link, Size: 1}},
		{in: "type=cdir; .", skip: true},
		{in: "type=pdir; ..", skip: true},
		{in: "type=file;size=x; f", wantErr: true},
		{in: "type=file;modify=2020; f", wantErr: true},
		{in: "type=file; ../x", wantErr: true},
		{in: "type=file;", wantErr: true},
	}
	for _, tt := range tests {
		got, ok, err := ftp.ParseMLSD(tt.in)
		if (err != nil) != tt.wantErr || ok == (tt.skip || tt.wantErr) || (ok && got != tt.want) {
			t.Errorf("ParseMLSD(%q) = %+v %v %v, want %+v", tt.in, got, ok, err, tt.want)
		}
	}
}

func TestParsePassive(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"Entering Passive Mode (192,0,2,7,4,1).", "192.0.2.7:1025"},
		{"Entering Passive Mode 127,0,0,1,200,10", "127.0.0.1:51210"},
		{"=127,0,0,1,0,21", "127.0.0.1:21"},
		{"(1,2,3,4,0,0)", ""},
		{"(256,0,0,1,1,1)", ""},
		{"(1,2,3,4,5)", ""},
		{"no numbers", ""},
	} {
		got, err := ftp.ParsePASV(tt.in)
		if (tt.want == "") != (err != nil) || (err == nil && got.String() != tt.want) {
			t.Errorf("ParsePASV(%q) = %v %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		want uint16
	}{
		{"Entering Extended Passive Mode (|||6446|)", 6446},
		{"(!!!21!)", 21},
		{"(|||0|)", 0},
		{"(|||70000|)", 0},
		{"(|1|2|3|)", 0},
		{"()", 0},
	} {
		got, err := ftp.ParseEPSV(tt.in)
		if (tt.want == 0) != (err != nil) || got != tt.want {
			t.Errorf("ParseEPSV(%q) = %d %v, want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestRoutable(t *testing.T) {
	a := netip.MustParseAddr
	for _, tt := range []struct{ pasv, peer, want string }{
		{"198.51.100.9", "198.51.100.9", "198.51.100.9"},
		{"198.51.100.10", "198.51.100.9", "198.51.100.10"}, // a public data address: trusted
		{"10.0.0.5", "198.51.100.9", "198.51.100.9"},       // NAT's inside address
		{"0.0.0.0", "198.51.100.9", "198.51.100.9"},
		{"127.0.0.1", "198.51.100.9", "198.51.100.9"},
		{"192.0.2.7", "127.0.0.1", "127.0.0.1"},
		{"10.0.0.5", "10.0.0.1", "10.0.0.5"},
		{"192.0.2.7", "2001:db8::1", "2001:db8::1"},
	} {
		if got := ftp.Routable(a(tt.pasv), a(tt.peer)); got != a(tt.want) {
			t.Errorf("Routable(%s, %s) = %s, want %s", tt.pasv, tt.peer, got, tt.want)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"-rw-r--r--    1 1000     1000       123456 Mar 01 14:05 report.pdf",
		"lrwxrwxrwx 1 0 0 11 Jan  5 10:00 latest -> release-1.2",
		"12-24-19  10:30AM       <DIR>          Windows dir",
		"type=file;size=1024;modify=20201231235959.123; a",
		"(|||21|)", "(1,2,3,4,5,6)",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (ftp.Entry, bool, error){
			func(s string) (ftp.Entry, bool, error) { return ftp.ParseList(s, now) },
			ftp.ParseMLSD,
		} {
			e, ok, err := parse(s)
			if ok && (err != nil || e.Name == "" || e.Name == "." || e.Name == ".." || e.Size < 0 ||
				containsAny(e.Name, "/")) {
				t.Fatalf("%q: accepted %+v", s, e)
			}
		}
		if ap, err := ftp.ParsePASV(s); err == nil && ap.Port() == 0 {
			t.Fatalf("PASV %q: port 0 accepted", s)
		}
		if p, err := ftp.ParseEPSV(s); err == nil && p == 0 {
			t.Fatalf("EPSV %q: port 0 accepted", s)
		}
	})
}

func containsAny(s, chars string) bool {
	for _, c := range chars {
		for _, d := range s {
			if c == d {
				return true
			}
		}
	}
	return false
}

func TestParseURL(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    ftp.Location
		wantErr bool
	}{
		{in: "ftp://127.0.0.1/pub/file.txt", want: ftp.Location{Addr: "127.0.0.1:21", Path: "pub/file.txt"}},
		{in: "ftp://ann@[::1]:2121/", want: ftp.Location{Addr: "[::1]:2121", User: "ann"}},
		{in: "ftps://ann:secret@example.org//srv/x", want: ftp.Location{Addr: "example.org:990", User: "ann", Password: "secret", Path: "/srv/x", Security: ftp.Implicit}},
		{in: "ftp://host:0/", wantErr: true},
		{in: "http://host/", wantErr: true},
		{in: "ftp:///x", wantErr: true},
	} {
		got, err := ftp.ParseURL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseURL(%q) = %+v %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}
