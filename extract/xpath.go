package extract

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
)

// XPath is a compiled XPath 1.0 expression.
type XPath struct {
	src  string
	expr *xpath.Expr
}

// ParseXPath compiles an XPath 1.0 expression.
func ParseXPath(src string) (*XPath, error) {
	e, err := xpath.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("invalid XPath %q: %v", src, err)
	}
	return &XPath{src: src, expr: e}, nil
}

// String is the expression's source.
func (x *XPath) String() string { return x.src }

// Select parses an XML document from r (its declared encoding honoured)
// and evaluates the expression: a node set gives each node, as XML for
// elements (as text with Text) and as its value for attributes and text
// nodes; a number, string or boolean gives that one value.
func (x *XPath) Select(r io.Reader, text bool, lim Limits) ([]string, error) {
	doc, err := xmlquery.ParseWithOptions(bound(r, lim.maxInput(defaultMaxMarkup)), xmlquery.ParserOptions{})
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("the body is not XML: %v", err)
	}
	switch v := x.expr.Evaluate(xmlquery.CreateXPathNavigator(doc)).(type) {
	case *xpath.NodeIterator:
		var out []string
		for v.MoveNext() {
			nav := v.Current()
			switch nav.NodeType() {
			case xpath.ElementNode, xpath.RootNode:
				n := nav.(*xmlquery.NodeNavigator).Current()
				if text {
					out = append(out, n.InnerText())
				} else {
					out = append(out, n.OutputXML(true))
				}
			default: // attributes, text, comments
				out = append(out, nav.Value())
			}
		}
		return out, nil
	case float64:
		return []string{strconv.FormatFloat(v, 'f', -1, 64)}, nil
	case bool:
		return []string{strconv.FormatBool(v)}, nil
	case string:
		return []string{v}, nil
	default:
		return nil, fmt.Errorf("XPath %q gave a %T", x.src, v)
	}
}
