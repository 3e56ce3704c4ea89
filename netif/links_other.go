//go:build !linux

package netif

// Link is an interface with its counters.
type Link struct {
	Interface
	Counters Counters
}

// Links returns every interface; counters are read only on Linux.
func Links() ([]Link, error) {
	ifs, err := List()
	if err != nil {
		return nil, err
	}
	out := make([]Link, len(ifs))
	for i, it := range ifs {
		it.Addrs = nil
		out[i].Interface = it
	}
	return out, nil
}
