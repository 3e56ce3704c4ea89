package extract

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
)

// Spec is one extraction: exactly one of JQ, Select and XPath.
type Spec struct {
	JQ     *JQ
	Select *Selector
	Pick   Pick // for Select
	XPath  *XPath
	Text   bool   // for XPath: elements as their text
	Format Format // for JQ
	Limits Limits
}

// Run extracts from body (of the given Content-Type, which Select uses for
// the character set) and writes the results to w, one a line (jq's own
// layout for JQ).
func (s Spec) Run(ctx context.Context, body io.Reader, contentType string, w io.Writer) error {
	switch {
	case s.JQ != nil:
		return s.JQ.Write(ctx, body, w, s.Limits, s.Format)
	case s.Select != nil:
		out, err := s.Select.Select(body, contentType, s.Pick, s.Limits)
		if err != nil {
			return err
		}
		return writeLines(w, out)
	case s.XPath != nil:
		out, err := s.XPath.Select(body, s.Text, s.Limits)
		if err != nil {
			return err
		}
		return writeLines(w, out)
	}
	return errors.New("extract: the spec names no extraction")
}

func writeLines(w io.Writer, lines []string) error {
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// NewWriter returns a writer that extracts from what is written to it, as
// it arrives, and writes the results to w. Close waits for the extraction
// to end and returns its error; a failed extraction makes later writes
// fail with it.
func (s Spec) NewWriter(ctx context.Context, contentType string, w io.Writer) io.WriteCloser {
	pr, pw := io.Pipe()
	ew := &writer{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(ew.done)
		err := s.Run(ctx, pr, contentType, w)
		if err == nil {
			// Drain what the program did not read (jq reads every value,
			// HTML and XML the whole document, so this is only trailing
			// bytes), so that the writer never blocks.
			_, err = io.Copy(io.Discard, pr)
		}
		ew.err = err
		pr.CloseWithError(cmpErr(err, io.ErrClosedPipe))
	}()
	return ew
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

type writer struct {
	pw   *io.PipeWriter
	done chan struct{}
	err  error
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	if err != nil {
		<-w.done
		if w.err != nil {
			return n, &ExtractError{w.err}
		}
	}
	return n, err
}

func (w *writer) Close() error {
	w.pw.Close()
	<-w.done
	if w.err != nil {
		return &ExtractError{w.err}
	}
	return nil
}

// ExtractError is an extraction that failed, told apart from a failure to
// read the body.
type ExtractError struct{ Err error }

func (e *ExtractError) Error() string { return fmt.Sprint(e.Err) }
func (e *ExtractError) Unwrap() error { return e.Err }
