package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/netkit-dev/netkit/httpwire"
)

// httpCookies are --session and --cookies: a jar for the client, and a
// save function to call when the requests are done.
func (o httpOptions) cookieJar(a *app, reqs []*httpwire.Request, given httpwire.Header) (*httpwire.Jar, func() error, error) {
	if o.session == "" && o.cookies == "" {
		return nil, func() error { return nil }, nil
	}
	jar := &httpwire.Jar{}
	if o.cookies != "" {
		f, err := os.Open(o.cookies)
		if err != nil {
			return nil, nil, inputError(fmt.Errorf("--cookies: %w", err))
		}
		err = jar.ReadNetscape(f)
		f.Close()
		if err != nil {
			return nil, nil, inputError(fmt.Errorf("--cookies %s: %w", o.cookies, err))
		}
	}
	if o.session == "" {
		return jar, func() error { return nil }, nil
	}
	dir := a.io.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		dir = filepath.Join(a.io.getenv("HOME"), ".config")
	}
	path, err := httpwire.SessionPath(o.session, filepath.Join(dir, "netkit", "sessions"))
	if err != nil {
		return nil, nil, inputError(err)
	}
	sess, err := httpwire.LoadSession(path)
	if err != nil {
		return nil, nil, inputError(err)
	}
	jar.Add(sess.Cookies...)
	// The headers given (-H and Name:value items) are kept, not those the
	// body brought (Content-Type, and Accept for a JSON body).
	sess.Remember(given)
	for _, req := range reqs {
		sess.Apply(req)
	}
	save := func() error {
		sess.Cookies = jar.All()
		if err := sess.Save(path); err != nil {
			return fmt.Errorf("saving the session: %w", err)
		}
		return nil
	}
	return jar, save, nil
}
