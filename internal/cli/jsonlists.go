package cli

import (
	"encoding/json"
	"reflect"
	"strings"
)

// emptyLists returns v with every nil slice it holds (in exported fields
// without omitempty, through structs, pointers, slices and maps) made
// empty, so that JSON shows a list as [] and never as null: a script
// that iterates over the list must not have to test for null first.
// Values that marshal themselves are left to do so. v itself is copied,
// but what its pointers point to is changed in place.
func emptyLists(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return v
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	fill(cp, map[uintptr]bool{}, 0)
	return cp.Interface()
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

func fill(v reflect.Value, seen map[uintptr]bool, depth int) {
	if depth > 32 || v.Type().Implements(marshalerType) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		fill(v.Elem(), seen, depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		cp := reflect.New(e.Type()).Elem()
		cp.Set(e)
		fill(cp, seen, depth+1)
		if v.CanSet() {
			v.Set(cp)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" || strings.Contains(tag, ",omitempty") || strings.Contains(tag, ",omitzero") {
				continue
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.Slice && fv.IsNil() && fv.CanSet() && fv.Type().Elem().Kind() != reflect.Uint8 {
				fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
				continue
			}
			fill(fv, seen, depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), seen, depth+1)
		}
	}
}
