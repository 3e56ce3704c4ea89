package impair

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// API serves the part of toxiproxy's HTTP API that its clients use, so
// that a test written against toxiproxy (its Go client, or toxiproxy-cli)
// can drive netkit instead: GET and POST /proxies, GET, POST and DELETE
// /proxies/{name}, GET and POST /proxies/{name}/toxics, GET, POST and
// DELETE /proxies/{name}/toxics/{toxic}, POST /populate, POST /reset and
// GET /version. Proxies are TCP, with the toxics of Toxic; a proxy whose
// listen address is written udp://HOST:PORT is a UDPProxy, netkit's
// extension, with the toxics of udpToxics.
//
// With Token set, every request must carry it as "Authorization: Bearer
// TOKEN": a server that listens beyond loopback should set it, since the
// API opens listening sockets.
type API struct {
	Token string

	mu      sync.Mutex
	proxies map[string]Controlled
}

// Version is what GET /version answers.
const Version = "netkit-impair (toxiproxy API 2.x)"

type apiError struct {
	Message string `json:"error"`
	Status  int    `json:"status"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, apiError{fmt.Sprintf(format, args...), code})
}

type proxyView struct {
	Name     string  `json:"name"`
	Listen   string  `json:"listen"`
	Upstream string  `json:"upstream"`
	Enabled  bool    `json:"enabled"`
	Toxics   []Toxic `json:"toxics"`
}

func view(p Controlled) proxyView {
	name, listen, upstream, enabled := p.State()
	return proxyView{name, listen, upstream, enabled, append([]Toxic{}, p.Toxics()...)}
}

// Close stops every proxy.
func (a *API) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.proxies {
		p.Stop()
	}
	a.proxies = nil
}

// Proxy returns the proxy called name, or nil.
func (a *API) Proxy(name string) Controlled {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.proxies[name]
}

// Create starts a proxy; a name in use is an error.
func (a *API) Create(name, listen, upstream string, enabled bool) (Controlled, error) {
	if name == "" || listen == "" || upstream == "" {
		return nil, errors.New("a proxy needs a name, listen and upstream")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proxies == nil {
		a.proxies = map[string]Controlled{}
	}
	if _, ok := a.proxies[name]; ok {
		return nil, errExists
	}
	var p Controlled = &TCPProxy{Name: name, Listen: listen, Upstream: upstream}
	if strings.HasPrefix(listen, "udp://") {
		p = NewUDPProxy(name, listen, upstream)
	}
	if enabled {
		if err := p.Start(); err != nil {
			return nil, err
		}
	}
	a.proxies[name] = p
	return p, nil
}

var errExists = errors.New("proxy already exists")

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.Token != "" {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) != 1 {
			fail(w, http.StatusUnauthorized, "a token is needed: Authorization: Bearer TOKEN")
			return
		}
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/version" && r.Method == http.MethodGet:
		w.Write([]byte(Version))
	case r.URL.Path == "/reset" && r.Method == http.MethodPost:
		a.mu.Lock()
		for _, p := range a.proxies {
			p.ResetToxics()
			p.Start()
		}
		a.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/populate" && r.Method == http.MethodPost:
		a.populate(w, r)
	case parts[0] == "proxies" && len(parts) == 1:
		a.proxiesRoot(w, r)
	case parts[0] == "proxies" && len(parts) == 2:
		a.proxy(w, r, parts[1])
	case parts[0] == "proxies" && len(parts) == 3 && parts[2] == "toxics":
		a.toxics(w, r, parts[1])
	case parts[0] == "proxies" && len(parts) == 4 && parts[2] == "toxics":
		a.toxic(w, r, parts[1], parts[3])
	default:
		fail(w, http.StatusNotFound, "no %s %s in this API", r.Method, r.URL.Path)
	}
}

func (a *API) proxiesRoot(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		a.mu.Lock()
		out := map[string]proxyView{}
		for n, p := range a.proxies {
			out[n] = view(p)
		}
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	case http.MethodPost:
		var in proxyView
		in.Enabled = true
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			fail(w, http.StatusBadRequest, "bad proxy: %v", err)
			return
		}
		p, err := a.Create(in.Name, in.Listen, in.Upstream, in.Enabled)
		switch {
		case errors.Is(err, errExists):
			fail(w, http.StatusConflict, "proxy %s already exists", in.Name)
		case err != nil:
			fail(w, http.StatusBadRequest, "%v", err)
		default:
			writeJSON(w, http.StatusCreated, view(p))
		}
	default:
		fail(w, http.StatusMethodNotAllowed, "%s /proxies", r.Method)
	}
}

func (a *API) proxy(w http.ResponseWriter, r *http.Request, name string) {
	p := a.Proxy(name)
	if p == nil {
		fail(w, http.StatusNotFound, "proxy not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, view(p))
	case http.MethodPost: // update: enabled, listen, upstream
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			fail(w, http.StatusBadRequest, "bad proxy: %v", err)
			return
		}
		u, _ := in["upstream"].(string)
		l, _ := in["listen"].(string)
		if l != "" && l != view(p).Listen {
			p.Stop()
		} else {
			l = ""
		}
		p.SetAddrs(l, u)
		on, set := in["enabled"].(bool)
		switch {
		case set && !on:
			p.Stop()
		case (set && on || !set) && !view(p).Enabled:
			if err := p.Start(); err != nil {
				fail(w, http.StatusInternalServerError, "listen %s: %v", view(p).Listen, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, view(p))
	case http.MethodDelete:
		p.Stop()
		a.mu.Lock()
		delete(a.proxies, name)
		a.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(w, http.StatusMethodNotAllowed, "%s /proxies/%s", r.Method, name)
	}
}

func (a *API) toxics(w http.ResponseWriter, r *http.Request, name string) {
	p := a.Proxy(name)
	if p == nil {
		fail(w, http.StatusNotFound, "proxy not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, append([]Toxic{}, p.Toxics()...))
	case http.MethodPost:
		t := Toxic{Toxicity: 1}
		if err := json.NewDecoder(r.Body).Decode(&t); err != nil {
			fail(w, http.StatusBadRequest, "bad toxic: %v", err)
			return
		}
		t, err := p.AddToxic(t)
		if err != nil {
			code := http.StatusBadRequest
			if strings.Contains(err.Error(), "exists") {
				code = http.StatusConflict
			}
			fail(w, code, "%v", err)
			return
		}
		writeJSON(w, http.StatusOK, t)
	default:
		fail(w, http.StatusMethodNotAllowed, "%s /proxies/%s/toxics", r.Method, name)
	}
}

func (a *API) toxic(w http.ResponseWriter, r *http.Request, proxy, name string) {
	p := a.Proxy(proxy)
	if p == nil {
		fail(w, http.StatusNotFound, "proxy not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		i := slices.IndexFunc(p.Toxics(), func(t Toxic) bool { return t.Name == name })
		if i < 0 {
			fail(w, http.StatusNotFound, "toxic not found")
			return
		}
		writeJSON(w, http.StatusOK, p.Toxics()[i])
	case http.MethodPost:
		var in struct {
			Toxicity   *float64       `json:"toxicity"`
			Attributes map[string]any `json:"attributes"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			fail(w, http.StatusBadRequest, "bad toxic: %v", err)
			return
		}
		if in.Toxicity != nil && *in.Toxicity < 0 {
			in.Toxicity = nil // toxiproxy's clients send -1 for "as it is"
		}
		t, err := p.UpdateToxic(name, in.Toxicity, in.Attributes)
		switch {
		case errors.Is(err, errNoToxic):
			fail(w, http.StatusNotFound, "toxic not found")
		case err != nil:
			fail(w, http.StatusBadRequest, "%v", err)
		default:
			writeJSON(w, http.StatusOK, t)
		}
	case http.MethodDelete:
		if err := p.RemoveToxic(name); err != nil {
			fail(w, http.StatusNotFound, "toxic not found")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(w, http.StatusMethodNotAllowed, "%s /proxies/%s/toxics/%s", r.Method, proxy, name)
	}
}

func (a *API) populate(w http.ResponseWriter, r *http.Request) {
	var in []proxyView
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, "bad proxy list: %v", err)
		return
	}
	var out []proxyView
	for _, v := range in {
		if old := a.Proxy(v.Name); old != nil {
			old.Stop()
			a.mu.Lock()
			delete(a.proxies, v.Name)
			a.mu.Unlock()
		}
		p, err := a.Create(v.Name, v.Listen, v.Upstream, true)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"proxies": out, "error": err.Error(), "status": http.StatusBadRequest})
			return
		}
		out = append(out, view(p))
	}
	writeJSON(w, http.StatusCreated, map[string]any{"proxies": out})
}
