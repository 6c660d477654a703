// Package didyoumean holds the wording and the measure of "did you mean"
// hints for a method and path that are not documented: the client's errors
// (from the catalog) and the fake server's 404s (from its own table) say
// the same thing the same way. Which paths are documented is for the
// callers to know.
package didyoumean

import (
	"fmt"
	"strings"
)

// Distance is the Levenshtein distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Near reports whether a path at distance d from path is near enough to
// be a typo of it: at most a third of path's length, plus 2.
func Near(path string, d int) bool { return d <= len(path)/3+2 }

// NotDocumented is the hint for a path not documented at all: near is the
// nearest documented path ("" when none is near), methods its methods.
func NotDocumented(near string, methods []string) string {
	if near == "" {
		return "not a documented endpoint"
	}
	return fmt.Sprintf("not a documented endpoint; did you mean %s %s?", strings.Join(methods, "/"), near)
}

// WrongMethod is the hint for a documented path called with a method it is
// not documented with.
func WrongMethod(path string, methods []string, method string) string {
	return fmt.Sprintf("%s is documented as %s, not %s", path, strings.Join(methods, "/"), method)
}
