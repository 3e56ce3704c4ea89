package extract_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/netkit-dev/netkit/extract"
)

func ExampleJQ() {
	body := `{"items": [{"name": "ncat", "stars": 7}, {"name": "netkit", "stars": 120}]}`
	q, err := extract.ParseJQ(`.items[] | select(.stars > 10) | .name`)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = q.Write(context.Background(), strings.NewReader(body), os.Stdout, extract.Limits{}, extract.Format{Raw: true})
	fmt.Println(err)
	// Output:
	// netkit
	// <nil>
}

func ExampleSelector() {
	// Latin-1 bytes; the header says so.
	page := "<ul><li><a href=\"/791\">IP</a></li><li><a href=\"/793\">TCP \xe0 la carte</a></li></ul>"
	sel, _ := extract.ParseSelector("li a")
	hrefs, _ := sel.Select(strings.NewReader(page), "text/html; charset=ISO-8859-1", extract.Pick{Attr: "href"}, extract.Limits{})
	texts, _ := sel.Select(strings.NewReader(page), "text/html; charset=ISO-8859-1", extract.Pick{Text: true}, extract.Limits{})
	fmt.Println(hrefs, texts)
	// Output: [/791 /793] [IP TCP à la carte]
}

func ExampleXPath() {
	x, _ := extract.ParseXPath("//rfc[@year < 1982]/@number")
	out, _ := x.Select(strings.NewReader(`<rfcs><rfc number="768" year="1980"/><rfc number="791" year="1981"/><rfc number="8200" year="2017"/></rfcs>`), false, extract.Limits{})
	fmt.Println(out)
	// Output: [768 791]
}
