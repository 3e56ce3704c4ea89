package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/internal/textui"
)

// copyFiles runs a file copy (sftp, ftp) with one progress bar over all
// its files, each reported as bytes done of it, then renders the result
// run returns for the time it took.
func copyFiles(a *app, label string, run func(progress func(name string, done, total int64)) (func(seconds float64) humanWriter, error)) error {
	bar := a.newProgress(label, 0)
	var file string
	var last int64
	start := time.Now()
	result, err := run(func(name string, done, total int64) {
		if name != file {
			file, last = name, done // count from here: a resumed file's start is not this run's
		}
		bar.Add(done - last)
		last = done
	})
	bar.Finish()
	if err != nil {
		return err
	}
	return a.render(result(time.Since(start).Seconds()))
}

// writeCopyLine is the summary of a copy: files, bytes, time and rate,
// then any notes.
func writeCopyLine(w io.Writer, files int, n int64, seconds float64, notes ...string) error {
	rate := float64(n) / max(seconds, 1e-9)
	_, err := fmt.Fprintf(w, "%d files, %s in %.2fs (%s/s)%s\n", files, textui.FormatBytes(n), seconds,
		textui.FormatBytes(int64(rate)), strings.Join(append([]string{""}, notes...), ", "))
	return err
}
