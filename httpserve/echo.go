package httpserve

import (
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Echo is the test API. Its zero value works.
type Echo struct {
	// MaxBody is the largest request body echoed, in bytes. If zero,
	// 16 MiB.
	MaxBody int64
	// MaxDelay caps /delay/N. If zero, 10s.
	MaxDelay time.Duration
	// MaxBytes caps /bytes/N and /stream-bytes/N. If zero, 100 MiB.
	MaxBytes int64

	once sync.Once
	m    *http.ServeMux
}

// EchoRoutes lists the API, for its index page and for people: each
// route with what it does.
var EchoRoutes = [][2]string{
	{"/anything[/...]", "any method: the request echoed as JSON (method, url, args, headers, origin, data, json, form, files)"},
	{"/get, /post, /put, /patch, /delete", "the same, for that method only"},
	{"/headers, /ip, /user-agent", "parts of the request"},
	{"/status/CODE", "answer with this status (200-599)"},
	{"/delay/SECONDS", "wait, then echo"},
	{"/redirect/N, /absolute-redirect/N", "N redirects (relative or absolute Location), then /get"},
	{"/redirect-to?url=URL&status_code=302", "one redirect to URL"},
	{"/cookies, /cookies/set?NAME=VALUE, /cookies/delete?NAME", "the cookies sent; set or delete some, then show them"},
	{"/basic-auth/USER/PASSWORD, /bearer", "200 with the right credentials, 401 without"},
	{"/bytes/N?seed=S, /stream-bytes/N?chunk_size=C", "N random bytes, with a length or chunked"},
	{"/stream/N", "N JSON lines, chunked, flushed one by one"},
	{"/gzip", "the echo, gzipped"},
	{"/json, /html, /xml", "sample documents to extract data from"},
	{"/items?page=P&per_page=N&total=T", "a paginated JSON list with Link: rel=\"next\" headers"},
	{"/response-headers?NAME=VALUE", "answer with these headers"},
}

// Request is what the echo routes answer with.
type Request struct {
	Method  string         `json:"method"`
	URL     string         `json:"url"`
	Args    map[string]any `json:"args"`
	Headers map[string]any `json:"headers"`
	Origin  string         `json:"origin"`
	Data    string         `json:"data"`
	JSON    any            `json:"json"`
	Form    map[string]any `json:"form"`
	Files   map[string]any `json:"files"`
}

// ServeHTTP serves the API.
func (e *Echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.once.Do(func() { e.m = e.mux() })
	e.m.ServeHTTP(w, r)
}

func (e *Echo) mux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", e.index)
	m.HandleFunc("/anything", e.echo)
	m.HandleFunc("/anything/", e.echo)
	for _, meth := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		m.HandleFunc(meth+" /"+strings.ToLower(meth), e.echo)
	}
	m.HandleFunc("GET /headers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"headers": headerMap(r)})
	})
	m.HandleFunc("GET /ip", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"origin": origin(r)})
	})
	m.HandleFunc("GET /user-agent", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"user-agent": r.UserAgent()})
	})
	m.HandleFunc("/status/{code}", status)
	m.HandleFunc("/delay/{seconds}", e.delay)
	m.HandleFunc("GET /redirect/{n}", redirectN(false))
	m.HandleFunc("GET /absolute-redirect/{n}", redirectN(true))
	m.HandleFunc("/redirect-to", redirectTo)
	m.HandleFunc("GET /cookies", cookies)
	m.HandleFunc("GET /cookies/set", setCookies)
	m.HandleFunc("GET /cookies/delete", deleteCookies)
	m.HandleFunc("GET /basic-auth/{user}/{password}", basicAuth)
	m.HandleFunc("GET /bearer", bearer)
	m.HandleFunc("GET /bytes/{n}", e.randomBytes(false))
	m.HandleFunc("GET /stream-bytes/{n}", e.randomBytes(true))
	m.HandleFunc("GET /stream/{n}", stream)
	m.HandleFunc("GET /gzip", e.gzip)
	m.HandleFunc("GET /json", sample("application/json", sampleJSON))
	m.HandleFunc("GET /html", sample("text/html; charset=utf-8", sampleHTML))
	m.HandleFunc("GET /xml", sample("application/xml", sampleXML))
	m.HandleFunc("GET /items", items)
	m.HandleFunc("/response-headers", responseHeaders)
	return m
}

func (e *Echo) index(w http.ResponseWriter, r *http.Request) {
	routes := make([]map[string]string, len(EchoRoutes))
	for i, rt := range EchoRoutes {
		routes[i] = map[string]string{"route": rt[0], "does": rt[1]}
	}
	writeJSON(w, http.StatusOK, map[string]any{"netkit http serve --echo": routes})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func problem(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]any{"status": code, "error": fmt.Sprintf(format, args...)})
}

// read builds the echo of r; ok is false when it has already answered
// with an error.
func (e *Echo) read(w http.ResponseWriter, r *http.Request) (*Request, bool) {
	limit := e.MaxBody
	if limit <= 0 {
		limit = 16 << 20
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			problem(w, http.StatusRequestEntityTooLarge, "the body is over the limit of %d bytes", limit)
		} else {
			problem(w, http.StatusBadRequest, "reading the body: %v", err)
		}
		return nil, false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := &Request{
		Method:  r.Method,
		URL:     scheme + "://" + r.Host + r.URL.RequestURI(),
		Args:    flatten(r.URL.Query()),
		Headers: headerMap(r),
		Origin:  origin(r),
		Form:    map[string]any{},
		Files:   map[string]any{},
	}
	ctype, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ctype == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			problem(w, http.StatusBadRequest, "the form body: %v", err)
			return nil, false
		}
		q.Form = flatten(vals)
	case ctype == "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(limit); err != nil {
			problem(w, http.StatusBadRequest, "the multipart body: %v", err)
			return nil, false
		}
		q.Form = flatten(r.MultipartForm.Value)
		for name, fhs := range r.MultipartForm.File {
			var contents []any
			for _, fh := range fhs {
				f, err := fh.Open()
				if err != nil {
					continue
				}
				b, _ := io.ReadAll(f)
				f.Close()
				contents = append(contents, textOrData(b, fh.Header.Get("Content-Type")))
			}
			q.Files[name] = one(contents)
		}
		_ = params
	default:
		q.Data = textOrData(body, ctype)
		if ctype == "application/json" || strings.HasSuffix(ctype, "+json") {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&q.JSON); err != nil && len(bytes.TrimSpace(body)) > 0 {
				problem(w, http.StatusBadRequest, "the JSON body: %v", err)
				return nil, false
			}
		}
	}
	return q, true
}

func (e *Echo) echo(w http.ResponseWriter, r *http.Request) {
	if q, ok := e.read(w, r); ok {
		writeJSON(w, http.StatusOK, q)
	}
}

// textOrData is b as a string when it is UTF-8 text, and as a data URL
// otherwise.
func textOrData(b []byte, ctype string) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return "data:" + ctype + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func one(vs []any) any {
	if len(vs) == 1 {
		return vs[0]
	}
	return vs
}

// flatten is httpbin's shape: one value as a string, several as a list.
func flatten(v map[string][]string) map[string]any {
	m := make(map[string]any, len(v))
	for k, vs := range v {
		if len(vs) == 1 {
			m[k] = vs[0]
		} else {
			m[k] = vs
		}
	}
	return m
}

func headerMap(r *http.Request) map[string]any {
	m := map[string]any{"Host": r.Host}
	for k, vs := range r.Header {
		m[k] = strings.Join(vs, ", ")
	}
	return m
}

func origin(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		problem(w, http.StatusBadRequest, "invalid status %q: give a code from 200 to 599", r.PathValue("code"))
		return
	}
	switch code {
	case 301, 302, 303, 307, 308:
		w.Header().Set("Location", "/get")
	case 401:
		w.Header().Set("WWW-Authenticate", `Basic realm="netkit"`)
	}
	w.WriteHeader(code)
}

func (e *Echo) delay(w http.ResponseWriter, r *http.Request) {
	limit := e.MaxDelay
	if limit <= 0 {
		limit = 10 * time.Second
	}
	s, err := strconv.ParseFloat(r.PathValue("seconds"), 64)
	if err != nil || s < 0 || time.Duration(s*float64(time.Second)) > limit {
		problem(w, http.StatusBadRequest, "invalid delay %q: give seconds from 0 to %g", r.PathValue("seconds"), limit.Seconds())
		return
	}
	t := time.NewTimer(time.Duration(s * float64(time.Second)))
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return
	case <-t.C:
	}
	e.echo(w, r)
}

func count(w http.ResponseWriter, s string, max int64) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > max {
		problem(w, http.StatusBadRequest, "invalid count %q: give a number from 0 to %d", s, max)
		return 0, false
	}
	return n, true
}

func redirectN(absolute bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, ok := count(w, r.PathValue("n"), 100)
		if !ok {
			return
		}
		next := "/get"
		if n > 1 {
			next = strings.TrimSuffix(r.URL.Path, r.PathValue("n")) + strconv.FormatInt(n-1, 10)
		}
		if n == 0 {
			next = "/get"
		}
		if absolute {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			next = scheme + "://" + r.Host + next
		}
		w.Header().Set("Location", next)
		w.WriteHeader(http.StatusFound)
	}
}

func redirectTo(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("url")
	if target == "" {
		problem(w, http.StatusBadRequest, "redirect-to needs ?url=")
		return
	}
	code := http.StatusFound
	if s := r.URL.Query().Get("status_code"); s != "" {
		c, err := strconv.Atoi(s)
		if err != nil || c < 300 || c > 399 {
			problem(w, http.StatusBadRequest, "invalid status_code %q: give a code from 300 to 399", s)
			return
		}
		code = c
	}
	w.Header().Set("Location", target)
	w.WriteHeader(code)
}

func cookies(w http.ResponseWriter, r *http.Request) {
	m := map[string]string{}
	for _, c := range r.Cookies() {
		m[c.Name] = c.Value
	}
	writeJSON(w, http.StatusOK, map[string]any{"cookies": m})
}

func setCookies(w http.ResponseWriter, r *http.Request) {
	for k, vs := range r.URL.Query() {
		c := &http.Cookie{Name: k, Value: vs[len(vs)-1], Path: "/"}
		if err := c.Valid(); err != nil {
			problem(w, http.StatusBadRequest, "invalid cookie %q: %v", k, err)
			return
		}
		http.SetCookie(w, c)
	}
	w.Header().Set("Location", "/cookies")
	w.WriteHeader(http.StatusFound)
}

func deleteCookies(w http.ResponseWriter, r *http.Request) {
	for k := range r.URL.Query() {
		http.SetCookie(w, &http.Cookie{Name: k, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0)})
	}
	w.Header().Set("Location", "/cookies")
	w.WriteHeader(http.StatusFound)
}

func basicAuth(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(r.PathValue("user"))) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(r.PathValue("password"))) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="netkit"`)
		problem(w, http.StatusUnauthorized, "basic authentication with the user and password in the path is needed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"authenticated": true, "user": user})
}

func bearer(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
		problem(w, http.StatusUnauthorized, "an Authorization: Bearer TOKEN header is needed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"authenticated": true, "token": token})
}

func (e *Echo) randomBytes(chunked bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		limit := e.MaxBytes
		if limit <= 0 {
			limit = 100 << 20
		}
		n, ok := count(w, r.PathValue("n"), limit)
		if !ok {
			return
		}
		seed := uint64(time.Now().UnixNano())
		if s := r.URL.Query().Get("seed"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				problem(w, http.StatusBadRequest, "invalid seed %q: give a whole number", s)
				return
			}
			seed = v
		}
		chunk := int64(10240)
		if s := r.URL.Query().Get("chunk_size"); s != "" {
			if chunk, ok = count(w, s, 1<<20); !ok || chunk == 0 {
				if ok {
					problem(w, http.StatusBadRequest, "invalid chunk_size 0: give 1 or more")
				}
				return
			}
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if !chunked {
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		}
		rng := rand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8), 2: byte(seed >> 16), 3: byte(seed >> 24),
			4: byte(seed >> 32), 5: byte(seed >> 40), 6: byte(seed >> 48), 7: byte(seed >> 56)})
		buf := make([]byte, min(chunk, max(n, 1)))
		rc := http.NewResponseController(w)
		for n > 0 {
			p := buf[:min(int64(len(buf)), n)]
			rng.Read(p)
			if _, err := w.Write(p); err != nil {
				return
			}
			if chunked {
				rc.Flush()
			}
			n -= int64(len(p))
		}
	}
}

func stream(w http.ResponseWriter, r *http.Request) {
	n, ok := count(w, r.PathValue("n"), 100)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	rc := http.NewResponseController(w)
	for i := range n {
		b, _ := json.Marshal(map[string]any{"id": i, "url": r.URL.String(), "origin": origin(r)})
		if _, err := w.Write(append(b, '\n')); err != nil {
			return
		}
		rc.Flush()
	}
}

func (e *Echo) gzip(w http.ResponseWriter, r *http.Request) {
	q, ok := e.read(w, r)
	if !ok {
		return
	}
	b, _ := json.MarshalIndent(map[string]any{"gzipped": true, "method": q.Method, "headers": q.Headers, "origin": q.Origin}, "", "  ")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(append(b, '\n'))
	zw.Close()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Length", strconv.Itoa(z.Len()))
	w.Write(z.Bytes())
}

func sample(ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	}
}

func items(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	num := func(name string, def, lo, hi int64) (int64, bool) {
		s := q.Get(name)
		if s == "" {
			return def, true
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < lo || v > hi {
			problem(w, http.StatusBadRequest, "invalid %s %q: give a number from %d to %d", name, s, lo, hi)
			return 0, false
		}
		return v, true
	}
	total, ok1 := num("total", 25, 0, 100000)
	per, ok2 := num("per_page", 10, 1, 1000)
	page, ok3 := num("page", 1, 1, 1<<20)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	last := max((total+per-1)/per, 1)
	list := []map[string]any{}
	for i := (page-1)*per + 1; i <= min(page*per, total); i++ {
		list = append(list, map[string]any{"id": i, "name": fmt.Sprintf("item %d", i)})
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	link := func(p int64, rel string) string {
		u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path}
		v := url.Values{"page": {strconv.FormatInt(p, 10)}, "per_page": {strconv.FormatInt(per, 10)}, "total": {strconv.FormatInt(total, 10)}}
		u.RawQuery = v.Encode()
		return fmt.Sprintf(`<%s>; rel="%s"`, u.String(), rel)
	}
	links := []string{link(1, "first")}
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(last, "last"))
	w.Header().Set("Link", strings.Join(links, ", "))
	writeJSON(w, http.StatusOK, list)
}

func responseHeaders(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				problem(w, http.StatusBadRequest, "invalid value for header %q: CR, LF and NUL are not allowed", k)
				return
			}
			w.Header().Add(k, v)
		}
		out[k] = one(anys(vs))
	}
	writeJSON(w, http.StatusOK, out)
}

func anys(vs []string) []any {
	a := make([]any, len(vs))
	for i, v := range vs {
		a[i] = v
	}
	return a
}

const sampleJSON = `{
  "slideshow": {
    "title": "Sample Slide Show",
    "author": "Yours Truly",
    "date": "2026-12-02",
    "slides": [
      {"title": "Wake up to WonderWidgets!", "type": "all"},
      {"title": "Overview", "type": "all", "items": ["Why WonderWidgets are great", "Who buys WonderWidgets"]}
    ]
  }
}
`

const sampleHTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>netkit sample page</title></head>
<body>
<h1 id="top">Requests for Comments</h1>
<ul class="rfcs">
  <li><a href="/rfc/791" title="Internet Protocol">RFC 791</a></li>
  <li><a href="/rfc/793" title="Transmission Control Protocol">RFC 793</a></li>
  <li><a href="/rfc/768" title="User Datagram Protocol">RFC 768</a></li>
</ul>
<p class="note">Three of the <b>oldest</b> standards.</p>
</body>
</html>
`

const sampleXML = `<?xml version="1.0" encoding="UTF-8"?>
<slideshow title="Sample Slide Show" date="2026-12-02" author="Yours Truly">
  <slide type="all"><title>Wake up to WonderWidgets!</title></slide>
  <slide type="all">
    <title>Overview</title>
    <item>Why <em>WonderWidgets</em> are great</item>
    <item>Who <em>buys</em> WonderWidgets</item>
  </slide>
</slideshow>
`
