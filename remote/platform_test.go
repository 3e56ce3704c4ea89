package remote

import (
	"errors"
	"testing"
)

func TestPlatformFor(t *testing.T) {
	p, err := PlatformFor("", `r1[>#]`)
	if err != nil || p.Name != "custom" || !p.Prompt.MatchString("r1# ") || p.Prompt.MatchString("r1# x") || p.More != AnyMore {
		t.Fatalf("custom: %+v %v", p, err)
	}
	if p, err := PlatformFor("cisco_ios", ""); err != nil || p.Enable != "enable" {
		t.Fatalf("cisco_ios: %+v %v", p, err)
	}
	for _, tc := range []struct{ name, prompt, field string }{{"ios9", "", "platform"}, {"", "(", "prompt"}} {
		_, err := PlatformFor(tc.name, tc.prompt)
		if pe, ok := errors.AsType[*PlatformError](err); !ok || pe.Field != tc.field {
			t.Errorf("PlatformFor(%q, %q) = %v", tc.name, tc.prompt, err)
		}
	}
	custom, _ := PlatformFor("", `\$`)
	for _, ds := range []DeviceScript{
		{Platform: custom, Enable: true},
		{Platform: custom, Configure: true},
		{Platform: Platforms["cisco_ios"], Commands: []string{"show version\nreload"}},
	} {
		if err := ds.Check(); err == nil {
			t.Errorf("%+v passed its check", ds)
		}
	}
	if err := (&DeviceScript{Platform: Platforms["cisco_ios"], Enable: true, Configure: true, Commands: []string{"hostname r1"}}).Check(); err != nil {
		t.Error(err)
	}
}
