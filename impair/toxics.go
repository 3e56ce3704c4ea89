package impair

// toxicList is a proxy's toxics, in the order they were added. Its
// methods run under the proxy's lock; check fills in and checks a toxic
// for the kind of proxy.
type toxicList []Toxic

func (l *toxicList) add(t Toxic, check func(*Toxic) error) (Toxic, error) {
	if err := check(&t); err != nil {
		return t, err
	}
	for _, x := range *l {
		if x.Name == t.Name {
			return t, &ToxicError{t.Name, "a toxic of that name exists"}
		}
	}
	*l = append(*l, t)
	return t, nil
}

func (l toxicList) update(name string, toxicity *float64, attrs map[string]any, check func(*Toxic) error) (Toxic, error) {
	for i, x := range l {
		if x.Name != name {
			continue
		}
		y := x
		y.Attributes = map[string]any{}
		for k, v := range x.Attributes {
			y.Attributes[k] = v
		}
		for k, v := range attrs {
			y.Attributes[k] = v
		}
		if toxicity != nil {
			y.Toxicity = *toxicity
		}
		if err := check(&y); err != nil {
			return x, err
		}
		l[i] = y
		return y, nil
	}
	return Toxic{}, errNoToxic
}

func (l *toxicList) remove(name string) error {
	for i, x := range *l {
		if x.Name == name {
			*l = append((*l)[:i], (*l)[i+1:]...)
			return nil
		}
	}
	return errNoToxic
}
