package cli

import "github.com/netkit-dev/netkit/internal/textui"

// newProgress starts a progress bar on stderr, drawn only when stderr is
// a terminal.
func (a *app) newProgress(label string, total int64) *textui.Progress {
	if !a.io.ErrTTY {
		return textui.NewProgress(nil, 0, label, total)
	}
	return textui.NewProgress(a.io.Err, a.io.errWidth(), label, total)
}
