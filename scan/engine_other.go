//go:build !linux

package scan

import "context"

func run(context.Context, Config, *jobs) (Summary, error) { return Summary{}, ErrUnsupported }
