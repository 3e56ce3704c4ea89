package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPerfClientServer(t *testing.T) {
	srv := start(t, nil, "perf", "server", "tcp://127.0.0.1:0")
	addr := find(t, srv.out, `perf server on (\S+) `)
	for _, args := range [][]string{
		{"-t", "0.3"},
		{"-t", "0.3", "-R", "-P", "2"},
		{"-t", "0.3", "--bidir"},
		{"-n", "1M", "-l", "64K"},
		{"-u", "-b", "10M", "-t", "0.3"},
		{"-u", "-b", "10M", "-t", "0.3", "-R"},
		{"--rr", "-t", "0.3"},
		{"--rr", "-u", "-t", "0.3"},
	} {
		out, errOut, code := run(t, append([]string{"--json", "perf", "client", addr, "-i", "0.1"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var rep struct {
			Up, Down *struct {
				RecvBytes int64   `json:"recv_bytes"`
				BPS       float64 `json:"bits_per_second"`
				Lost      int64   `json:"lost"`
			}
			RR *struct {
				Transactions int     `json:"transactions"`
				P99          float64 `json:"p99_us"`
			}
			Intervals []json.RawMessage
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		joined := strings.Join(args, " ")
		switch {
		case strings.Contains(joined, "--rr"):
			if rep.RR == nil || rep.RR.Transactions == 0 || rep.RR.P99 <= 0 {
				t.Errorf("%v: %s", args, out)
			}
		case strings.Contains(joined, "-R"):
			if rep.Down == nil || rep.Down.BPS <= 0 || rep.Up != nil {
				t.Errorf("%v: %s", args, out)
			}
		case strings.Contains(joined, "--bidir"):
			if rep.Down == nil || rep.Up == nil {
				t.Errorf("%v: %s", args, out)
			}
		case strings.Contains(joined, "-n 1M"):
			if rep.Up == nil || rep.Up.RecvBytes != 1<<20 {
				t.Errorf("%v: %s", args, out)
			}
		default:
			if rep.Up == nil || rep.Up.BPS <= 0 || len(rep.Intervals) < 2 {
				t.Errorf("%v: %s", args, out)
			}
		}
	}
	out, _, code := run(t, "perf", "client", addr, "-t", "0.2", "-u", "-b", "5M", "-i", "0")
	if code != 0 || !strings.Contains(out, "UDP send, 1 stream") || !strings.Contains(out, "0 lost (0.00%)") {
		t.Errorf("human output: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"-R", "--bidir"}, {"-b", "fast"}, {"-l", "0"}, {"-u", "-l", "8"}, {"-P", "1000"}, {"-t", "-1"},
	} {
		if _, _, code := run(t, append([]string{"perf", "client", addr}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	if _, errOut, code := run(t, "perf", "client", "udp://127.0.0.1:1"); code != 2 || !strings.Contains(errOut, "tcp endpoint") {
		t.Errorf("udp endpoint: exit %d %q", code, errOut)
	}
}
