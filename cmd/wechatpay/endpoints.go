package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/wechatpay-chain/wechatpay/catalog"
)

// endpointsCommand prints the catalog entries that match every word.
func endpointsCommand(_ context.Context, e env, args []string) int {
	f := newFlags(e, "endpoints", "endpoints [flags] [WORD...]")
	docs := f.Bool("docs", false, "print each endpoint's documentation link too")
	positional, code := f.parse(args, "WORD...")
	if code >= 0 {
		return code
	}
	found := catalog.Search(strings.Join(positional, " "))
	for _, ep := range found {
		fmt.Fprintln(e.stdout, ep)
		if *docs && ep.DocURL != "" {
			fmt.Fprintln(e.stdout, "    "+ep.DocURL)
		}
	}
	if len(found) == 0 {
		fmt.Fprintf(e.stderr, "wechatpay endpoints: nothing matches %q\n", strings.Join(positional, " "))
		return exitNothing
	}
	return exitOK
}
