package httpserve

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
)

// Files serves the files under one directory. Make one with [OpenFiles];
// the option fields may be set before it serves.
type Files struct {
	// Dotfiles serves and lists names that start with a dot. If false,
	// they are not found, wherever they are in the path.
	Dotfiles bool
	// Upload takes PUT requests: the body is stored under the request's
	// path (parent directories made as needed), replacing a file there.
	Upload bool
	// MaxUpload is the largest body PUT takes, in bytes. If zero, 1 GiB.
	MaxUpload int64
	// NoGzip never compresses. If false, text, JSON, JavaScript, XML and
	// SVG are gzipped for clients that accept it (Range requests are not).
	NoGzip bool
	// NoSendfile copies file bodies through a buffer (read and write)
	// instead of sendfile(2). On loopback that is faster and cheaper:
	// 1.6x the throughput at two thirds of the CPU for a large file (see
	// bench/README.md); across a real interface sendfile saves a copy.
	NoSendfile bool

	root *os.Root
	dir  string
}

// OpenFiles opens dir for serving. Close releases it.
func OpenFiles(dir string) (*Files, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Files{root: root, dir: dir}, nil
}

// Dir is the directory served.
func (f *Files) Dir() string { return f.dir }

// Close closes the directory.
func (f *Files) Close() error { return f.root.Close() }

const defaultMaxUpload = 1 << 30

// ServeHTTP serves GET and HEAD, and PUT with Upload.
func (f *Files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, status, why := f.name(r)
	if status != 0 {
		http.Error(w, why, status)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		f.get(w, r, rel)
	case http.MethodPut:
		if !f.Upload {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "uploads are off (netkit http serve --upload turns them on)", http.StatusMethodNotAllowed)
			return
		}
		f.put(w, r, rel)
	default:
		allow := "GET, HEAD"
		if f.Upload {
			allow += ", PUT"
		}
		w.Header().Set("Allow", allow)
		http.Error(w, r.Method+" is not served here", http.StatusMethodNotAllowed)
	}
}

// name turns the request's path into a name relative to the root, or
// says why it cannot (a status and a reason).
func (f *Files) name(r *http.Request) (rel string, status int, why string) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		return "", http.StatusBadRequest, "the path must start with /"
	}
	raw := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.ContainsAny(p, "\\\x00") {
		return "", http.StatusBadRequest, "encoded slashes, backslashes and NUL are not allowed in paths"
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return "", http.StatusBadRequest, "a path may not climb with .."
		}
		if !f.Dotfiles && strings.HasPrefix(seg, ".") && seg != "." {
			return "", http.StatusNotFound, "404 page not found"
		}
	}
	rel = strings.TrimPrefix(path.Clean(p), "/")
	if rel == "" {
		rel = "."
	}
	return rel, 0, ""
}

func (f *Files) get(w http.ResponseWriter, r *http.Request, rel string) {
	file, err := f.root.Open(rel)
	if err != nil {
		openError(w, err)
		return
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		openError(w, err)
		return
	}
	if fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			u := *r.URL
			u.Path += "/"
			u.RawPath = ""
			http.Redirect(w, r, u.RequestURI(), http.StatusMovedPermanently)
			return
		}
		if idx, err := f.root.Open(path.Join(rel, "index.html")); err == nil {
			defer idx.Close()
			if ifi, err := idx.Stat(); err == nil && ifi.Mode().IsRegular() {
				f.serveFile(w, r, idx, ifi)
				return
			}
		}
		f.list(w, r, file, rel)
		return
	}
	if !fi.Mode().IsRegular() {
		http.Error(w, "403 not a regular file", http.StatusForbidden)
		return
	}
	f.serveFile(w, r, file, fi)
}

func openError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, fs.ErrPermission):
		http.Error(w, "403 permission denied", http.StatusForbidden)
	default:
		// Not there, or (from os.Root) a link that leads out of the root:
		// both are "not found" to the client.
		http.Error(w, "404 page not found", http.StatusNotFound)
	}
}

func (f *Files) serveFile(w http.ResponseWriter, r *http.Request, file *os.File, fi fs.FileInfo) {
	h := w.Header()
	ctype := mime.TypeByExtension(path.Ext(fi.Name()))
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	etag := fmt.Sprintf(`"%x-%x`, fi.ModTime().UnixNano(), fi.Size())
	if !f.NoGzip && compressible(ctype) && fi.Size() >= 256 {
		h.Add("Vary", "Accept-Encoding")
		if r.Header.Get("Range") == "" && acceptsGzip(r) {
			h.Set("ETag", etag+`-gz"`)
			gw := &gzipWriter{ResponseWriter: w}
			defer gw.close()
			w = gw
		} else {
			h.Set("ETag", etag+`"`)
		}
	} else {
		h.Set("ETag", etag+`"`)
	}
	var content io.ReadSeeker = file
	if f.NoSendfile {
		content = plainFile{file} // not an *os.File: net/http copies it
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), content)
}

// plainFile hides an *os.File from net/http's sendfile path.
type plainFile struct{ f *os.File }

func (p plainFile) Read(b []byte) (int, error)                { return p.f.Read(b) }
func (p plainFile) Seek(off int64, whence int) (int64, error) { return p.f.Seek(off, whence) }

// compressible says whether a type is worth gzipping.
func compressible(ctype string) bool {
	t, _, _ := strings.Cut(ctype, ";")
	switch {
	case strings.HasPrefix(t, "text/"):
		return true
	case strings.HasSuffix(t, "+json"), strings.HasSuffix(t, "+xml"):
		return true
	}
	switch t {
	case "application/json", "application/javascript", "application/xml", "image/svg+xml", "application/wasm":
		return true
	}
	return false
}

// acceptsGzip reads Accept-Encoding as RFC 9110 section 12.5.3 has it: gzip
// (or *) with a q-value above zero.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for item := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(item), ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "x-gzip" && name != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}

var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
	return zw
}}

// gzipWriter compresses a 200 response's body; every other status passes
// as it is.
type gzipWriter struct {
	http.ResponseWriter
	zw      *gzip.Writer
	decided bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.decided {
		g.decided = true
		if code == http.StatusOK {
			h := g.Header()
			h.Del("Content-Length")
			h.Set("Content-Encoding", "gzip")
			g.zw = gzipPool.Get().(*gzip.Writer)
			g.zw.Reset(g.ResponseWriter)
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.decided {
		g.WriteHeader(http.StatusOK)
	}
	if g.zw == nil {
		return g.ResponseWriter.Write(p)
	}
	return g.zw.Write(p)
}

func (g *gzipWriter) close() {
	if g.zw != nil {
		g.zw.Close()
		g.zw.Reset(io.Discard)
		gzipPool.Put(g.zw)
		g.zw = nil
	}
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (f *Files) put(w http.ResponseWriter, r *http.Request, rel string) {
	if rel == "." || strings.HasSuffix(r.URL.Path, "/") {
		http.Error(w, "PUT needs a file name, not a directory", http.StatusBadRequest)
		return
	}
	limit := f.MaxUpload
	if limit <= 0 {
		limit = defaultMaxUpload
	}
	if r.ContentLength > limit {
		http.Error(w, fmt.Sprintf("the body of %d bytes is over the limit of %d", r.ContentLength, limit), http.StatusRequestEntityTooLarge)
		return
	}
	if fi, err := f.root.Stat(rel); err == nil && fi.IsDir() {
		http.Error(w, rel+" is a directory", http.StatusConflict)
		return
	}
	dir := path.Dir(rel)
	if err := f.root.MkdirAll(dir, 0o755); err != nil {
		http.Error(w, "cannot make the directory "+dir, http.StatusConflict)
		return
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(dir, ".netkit-upload-"+hex.EncodeToString(rnd[:]))
	out, err := f.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		openError(w, err)
		return
	}
	n, err := io.Copy(out, http.MaxBytesReader(w, r.Body, limit))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && r.ContentLength >= 0 && n != r.ContentLength {
		err = fmt.Errorf("got %d of %d bytes", n, r.ContentLength)
	}
	if err != nil {
		f.root.Remove(tmp)
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, fmt.Sprintf("the body is over the limit of %d bytes", limit), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "the upload failed: "+err.Error(), http.StatusBadRequest)
		return
	}
	_, statErr := f.root.Stat(rel)
	if err := f.root.Rename(tmp, rel); err != nil {
		f.root.Remove(tmp)
		http.Error(w, "cannot store "+rel, http.StatusInternalServerError)
		return
	}
	if statErr == nil { // replaced
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Location", r.URL.EscapedPath())
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "stored %d bytes in %s\n", n, rel)
}
