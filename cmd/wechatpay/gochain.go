package main

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/wechatpay-chain/wechatpay"
)

// segmentMethods maps each path segment that has a generated Chain method
// (segments_gen.go) to the method's name. It asks the methods themselves:
// every Chain method that takes nothing and returns a *Chain is called on
// a probe chain, and the segment it appends is read back. The names shown
// are thus those the library compiled, kept by internal/segmentgen's
// names.tsv, never a second naming rule that could drift from it.
var segmentMethods = sync.OnceValues(func() (map[string]string, error) {
	// A Builder that only builds chains; it never sends. NewBuilder wants
	// some credential: an APIv2 key of the right length is the lightest.
	b, err := wechatpay.NewBuilder(wechatpay.Config{MchID: "1900000001", Secret: strings.Repeat("0", 32)})
	if err != nil {
		return nil, err
	}
	const probe = "probe"
	v := reflect.ValueOf(b.Chain(probe))
	chainType := v.Type()
	names := map[string]string{}
	for i := range chainType.NumMethod() {
		m := chainType.Method(i)
		if m.Type.NumIn() != 1 || m.Type.NumOut() != 1 || m.Type.Out(0) != chainType {
			continue
		}
		next := v.Method(i).Call(nil)[0].Interface().(*wechatpay.Chain)
		if seg, ok := strings.CutPrefix(next.Path(), probe+"/"); ok && next.Err() == nil && !strings.Contains(seg, "/") {
			names[seg] = m.Name
		}
	}
	return names, nil
})

// goChain returns the Go chain that reaches a catalog path from a Builder,
// without the Builder: "V3().Global().Papay().Contracts().JsapiPreEntrustSign()".
// A placeholder is Seg("_name_"), filled from Options.Path, as the README's
// first style writes it; a trailing "/" is Seg("_empty_"). A path with a
// segment no method appends is Chain("path").
func goChain(path string) string {
	names, err := segmentMethods()
	segs := strings.Split(path, "/")
	if err != nil || len(segs) < 2 || segs[0] != "v3" && segs[0] != "v2" {
		return fmt.Sprintf("Chain(%q)", path)
	}
	var b strings.Builder
	b.WriteString(strings.ToUpper(segs[0]) + "()")
	for i, seg := range segs[1:] {
		switch {
		case seg == "" && i == len(segs)-2:
			b.WriteString(`.Seg("_empty_")`)
		case len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}':
			fmt.Fprintf(&b, ".Seg(%q)", "_"+seg[1:len(seg)-1]+"_")
		case names[seg] != "":
			b.WriteString("." + names[seg] + "()")
		default:
			return fmt.Sprintf("Chain(%q)", path)
		}
	}
	return b.String()
}
