//go:build !linux

package scan

import (
	"context"
	"os"
)

func run(context.Context, Config, *jobs) (Summary, error) { return Summary{}, ErrUnsupported }

func callerNetns() *os.File { return nil }

func enterNetns(*os.File) (bool, error) { return false, nil }
