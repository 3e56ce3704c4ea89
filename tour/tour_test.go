package tour

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/relay"
	"go.uber.org/goleak"
)

// TestSteps runs every step: each must pass on loopback, quickly, and
// leave no goroutine, socket or listener behind.
func TestSteps(t *testing.T) {
	fds := openFiles(t)
	start := time.Now()
	seen := map[string]bool{}
	for _, s := range Steps() {
		if seen[s.Name()] {
			t.Fatalf("two steps are named %q", s.Name())
		}
		seen[s.Name()] = true
		r := RunStep(context.Background(), s, nil)
		if !r.OK {
			t.Errorf("step %s failed: %s\n%s", s.Name(), r.Error, r.Output)
			continue
		}
		if r.Output == "" || r.Idea == "" || len(r.Commands) == 0 {
			t.Errorf("step %s says nothing: %+v", s.Name(), r)
		}
		for _, c := range r.Commands {
			if !strings.Contains(c, "netkit ") {
				t.Errorf("step %s: command %q runs no netkit command", s.Name(), c)
			}
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the tour took %s; it must take under 30 s", d)
	}
	goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// Sockets close a moment after their goroutines end. The pipes that
	// relay keeps for splicing (two files each) are not a leak.
	open := func() int { return openFiles(t) - 2*relay.IdlePipes() }
	for deadline := time.Now().Add(2 * time.Second); open() > fds && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := open(); n > fds {
		ents, _ := os.ReadDir("/proc/self/fd")
		var links []string
		for _, e := range ents {
			l, _ := os.Readlink("/proc/self/fd/" + e.Name())
			links = append(links, l)
		}
		t.Errorf("%d files open after the tour (less %d pipes kept for splicing), %d before: %v", n, relay.IdlePipes(), fds, links)
	}
}

func openFiles(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

func TestFind(t *testing.T) {
	if s, err := Find("dns"); err != nil || s.Name() != "dns" {
		t.Errorf("Find(dns) = %v, %v", s, err)
	}
	if s, err := Find("1"); err != nil || s.Name() != Steps()[0].Name() {
		t.Errorf("Find(1) = %v, %v", s, err)
	}
	for _, bad := range []string{"0", "99", "gopher", "-1"} {
		if _, err := Find(bad); err == nil {
			t.Errorf("Find(%q) found a step", bad)
		}
	}
}

func TestResultJSON(t *testing.T) {
	r := RunStep(context.Background(), ipv6{}, nil)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	json.Unmarshal(b, &back)
	for _, k := range []string{"name", "layer", "idea", "commands", "result", "duration_ns", "ok"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
}

// TestCancel: a cancelled context ends a step that waits on the network.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := RunStep(ctx, engines{}, nil)
	if r.OK {
		t.Error("the engines step passed with a cancelled context")
	}
	goleak.VerifyNone(t, goleak.IgnoreCurrent())
}
