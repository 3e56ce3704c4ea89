package cli

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/remote"
	"github.com/spf13/pflag"
)

// deviceFlags turn netkit ssh into a driver of a device's command line.
type deviceFlags struct {
	platform, prompt, secretFile string
	enable, configure            bool
	wait                         time.Duration
}

func (d *deviceFlags) add(f *pflag.FlagSet) {
	f.StringVar(&d.platform, "platform", "", "drive a device's command line: "+strings.Join(remote.PlatformNames(), ", "))
	f.StringVar(&d.prompt, "expect-prompt", "", "drive a command line whose prompt matches this `REGEX` (at the line's end)")
	f.BoolVar(&d.enable, "enable", false, "with a device, enter privileged mode first")
	f.StringVar(&d.secretFile, "secret-file", "", "with --enable, read the secret from this `FILE` (else NETKIT_ENABLE_SECRET)")
	f.BoolVar(&d.configure, "configure", false, "with a device, send the commands in configuration mode")
	f.DurationVar(&d.wait, "prompt-wait", 30*time.Second, "with a device, wait this long for each prompt")
}

// script is the device script the flags ask for, or nil.
func (d *deviceFlags) script(a *app, commands []string) (*remote.DeviceScript, error) {
	if d.platform == "" && d.prompt == "" {
		if d.enable || d.configure || d.secretFile != "" {
			return nil, usageError("--enable, --configure and --secret-file drive a device: add --platform or --expect-prompt")
		}
		return nil, nil
	}
	p := remote.Platform{Name: "custom"}
	if d.platform != "" {
		var ok bool
		if p, ok = remote.Platforms[d.platform]; !ok {
			return nil, usageError("unknown --platform %q: %s", d.platform, strings.Join(remote.PlatformNames(), ", "))
		}
	}
	if d.prompt != "" {
		re, err := regexp.Compile("(?:" + d.prompt + `)\s?$`)
		if err != nil {
			return nil, usageError("invalid --expect-prompt %q: %v", d.prompt, err)
		}
		p.Prompt = re
		if p.More == nil {
			p.More = remote.AnyMore
		}
	}
	if d.enable && (p.Enable == "" || p.Privileged == nil) {
		return nil, usageError("--platform %s has no enable mode", p.Name)
	}
	if d.configure && p.ConfigEnter == "" {
		return nil, usageError("--platform %s has no configuration mode (or give --platform with --expect-prompt)", p.Name)
	}
	s := &remote.DeviceScript{Platform: p, Enable: d.enable, Configure: d.configure, Commands: commands, Wait: d.wait}
	if d.enable {
		secret, err := a.password("NETKIT_ENABLE_SECRET", d.secretFile, "enable secret: ")
		if err != nil {
			return nil, err
		}
		s.Secret = secret
	}
	for _, c := range commands {
		if strings.ContainsAny(c, "\r\n") {
			return nil, inputError(fmt.Errorf("command %q: one line each", c))
		}
	}
	return s, nil
}
