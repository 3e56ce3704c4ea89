package rfc_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/netkit-dev/netkit/rfc"
)

// The tutorials' RFC downloader, against a local mirror: fetch a text,
// and ask the index about it.
func ExampleClient() {
	mirror := httptest.NewServer(http.FileServer(http.Dir("testdata/mirror")))
	defer mirror.Close()
	c := &rfc.Client{Mirror: mirror.URL}

	doc, err := c.Text(context.Background(), 791)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(doc.Text) > 0, doc.Source)

	ix, err := c.Index(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	e, _ := ix.Lookup(760)
	fmt.Printf("RFC %d: %s, obsoleted by %v\n", e.Number, e.Title, e.ObsoletedBy)
	// Output:
	// true network
	// RFC 760: DoD standard Internet Protocol, obsoleted by [RFC 791]
}
