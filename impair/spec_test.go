package impair

import (
	"errors"
	"testing"
	"time"
)

func TestSpecApply(t *testing.T) {
	s := Spec{Loss: "5%", Delay: 20 * time.Millisecond, Rate: "50M", Queue: "64K", Drops: []string{"13"}, Down: []string{"2s@10s"}, Only: "up"}
	var p Proxy
	if err := s.Apply(&p); err != nil {
		t.Fatal(err)
	}
	if p.Up.Loss != 0.05 || p.Up.Delay != 20*time.Millisecond || p.Up.Rate != 50e6 || p.Up.Queue != 64<<10 || len(p.Up.Script) != 1 || len(p.Up.Down) != 1 {
		t.Errorf("up: %+v", p.Up)
	}
	if p.Down.Loss != 0 || p.Down.Delay != 0 {
		t.Errorf("down is impaired too: %+v", p.Down)
	}
	for _, tc := range []struct {
		spec  Spec
		field string
	}{
		{Spec{Loss: "150%"}, "loss"},
		{Spec{Only: "sideways"}, "only"},
		{Spec{Slice: "1K"}, "slice"},
		{Spec{StallForever: true}, "stall"},
		{Spec{Delay: -time.Second}, "delay"},
		{Spec{Drops: []string{"first:x"}}, "drop"},
	} {
		err := tc.spec.Apply(&Proxy{})
		if se, ok := errors.AsType[*SpecError](err); !ok || se.Field != tc.field {
			t.Errorf("%+v: %v, want a SpecError for %s", tc.spec, err, tc.field)
		}
	}
}

func TestSpecToxics(t *testing.T) {
	s := Spec{Delay: 100 * time.Millisecond, Rate: "1M", Slice: "1K", StallForever: true, Only: "down"}
	ts, err := s.Toxics()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Toxic{}
	for _, x := range ts {
		got[x.Name] = x
	}
	if len(ts) != 4 || got["latency_downstream"].Attributes["latency"] != 100.0 || got["bandwidth_downstream"].Attributes["rate"] != 125.0 ||
		got["slicer_downstream"].Attributes["average_size"] != 1024.0 || got["timeout_downstream"].Attributes["timeout"] != 0.0 {
		t.Errorf("toxics %+v", ts)
	}
	if _, err := (&Spec{Loss: "1%"}).Toxics(); err == nil {
		t.Error("loss over TCP was taken")
	}
	if _, err := ParseRoute("udp://127.0.0.1:1=udp://127.0.0.1:2"); err != nil {
		t.Error(err)
	}
	if _, err := ParseRoute("tcp://127.0.0.1:1=udp://127.0.0.1:2"); err == nil {
		t.Error("a tcp route was taken")
	}
}
