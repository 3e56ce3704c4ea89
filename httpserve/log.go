package httpserve

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogFormat is the form of an access log's lines.
type LogFormat int

const (
	// LogCommon is the Common Log Format of NCSA httpd, Apache and nginx:
	// host ident user [time] "request line" status bytes.
	LogCommon LogFormat = iota
	// LogJSON is one JSON object a line.
	LogJSON
)

// LogEntry is one request in a JSON access log.
type LogEntry struct {
	Time     time.Time `json:"time"`
	Remote   string    `json:"remote"`
	Method   string    `json:"method"`
	URI      string    `json:"uri"`
	Proto    string    `json:"proto"`
	Status   int       `json:"status"`
	Bytes    int64     `json:"bytes"`
	Duration float64   `json:"duration_ms"`
	Agent    string    `json:"user_agent,omitempty"`
}

// AccessLog wraps h so that each request is written to w as one line
// when its response ends. Lines from concurrent requests do not mix.
// Responses keep sendfile: the wrapper passes io.ReaderFrom through.
func AccessLog(h http.Handler, w io.Writer, f LogFormat) http.Handler {
	l := &accessLog{w: w, format: f}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: rw}
		defer func() { l.write(r, rec, start) }()
		h.ServeHTTP(rec, r)
	})
}

type accessLog struct {
	mu     sync.Mutex
	w      io.Writer
	format LogFormat
}

func (l *accessLog) write(r *http.Request, rec *recorder, start time.Time) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	e := LogEntry{Time: start, Remote: origin(r), Method: r.Method, URI: r.RequestURI, Proto: r.Proto,
		Status: status, Bytes: rec.bytes, Duration: float64(time.Since(start).Microseconds()) / 1000, Agent: r.UserAgent()}
	var line []byte
	switch l.format {
	case LogJSON:
		line, _ = json.Marshal(e)
		line = append(line, '\n')
	default:
		user := "-"
		if u, _, ok := r.BasicAuth(); ok && u != "" {
			user = strings.ReplaceAll(u, " ", "_")
		}
		size := "-"
		if e.Bytes > 0 {
			size = strconv.FormatInt(e.Bytes, 10)
		}
		line = fmt.Appendf(nil, "%s - %s [%s] %s %d %s\n", e.Remote, user, start.Format("02/Jan/2006:15:04:05 -0700"),
			strconv.Quote(e.Method+" "+e.URI+" "+e.Proto), status, size)
	}
	l.mu.Lock()
	l.w.Write(line)
	l.mu.Unlock()
}

// recorder notes the status and the body's size.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile path for files.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := io.Copy(r.ResponseWriter, src)
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
