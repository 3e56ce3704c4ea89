package cli

import (
	"encoding/json"
	"io"

	"github.com/netkit-dev/netkit/internal/textui"
)

// humanWriter is a result that knows how to print itself for people.
// Every result is also JSON-encodable, and --json prints that instead.
type humanWriter interface {
	writeHuman(w io.Writer, st textui.Style) error
}

// render prints a command's result: JSON (one indented document) with
// --json, the human form otherwise.
func (a *app) render(v humanWriter) error {
	if a.json {
		enc := json.NewEncoder(a.io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(emptyLists(v))
	}
	return v.writeHuman(a.io.Out, a.outStyle())
}

// emit prints one event of a stream: a compact JSON line (NDJSON) with
// --json, the event's human form otherwise.
func (a *app) emit(v humanWriter) error {
	if a.json {
		return json.NewEncoder(a.io.Out).Encode(emptyLists(v))
	}
	return v.writeHuman(a.io.Out, a.outStyle())
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(emptyLists(v))
}
