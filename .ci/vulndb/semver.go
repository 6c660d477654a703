package main

// semverCompare is golang.org/x/mod/semver.Compare (which indexdb uses to
// pick the fixed version), copied because this program takes no module
// dependency: it returns -1, 0 or +1 for v < w, v == w, v > w. Versions
// carry a leading "v"; "v1" and "v1.2" are shorthands for "v1.0.0" and
// "v1.2.0"; build metadata is ignored; an invalid version is less than every
// valid one and equal to every invalid one.
func semverCompare(v, w string) int {
	pv, ok1 := semverParse(v)
	pw, ok2 := semverParse(w)
	switch {
	case !ok1 && !ok2:
		return 0
	case !ok1:
		return -1
	case !ok2:
		return +1
	}
	if c := compareInt(pv.major, pw.major); c != 0 {
		return c
	}
	if c := compareInt(pv.minor, pw.minor); c != 0 {
		return c
	}
	if c := compareInt(pv.patch, pw.patch); c != 0 {
		return c
	}
	return comparePrerelease(pv.prerelease, pw.prerelease)
}

type semver struct {
	major, minor, patch, prerelease string
}

func semverParse(v string) (p semver, ok bool) {
	if v == "" || v[0] != 'v' {
		return p, false
	}
	if p.major, v, ok = parseInt(v[1:]); !ok {
		return p, false
	}
	if v == "" {
		p.minor, p.patch = "0", "0"
		return p, true
	}
	if v[0] != '.' {
		return p, false
	}
	if p.minor, v, ok = parseInt(v[1:]); !ok {
		return p, false
	}
	if v == "" {
		p.patch = "0"
		return p, true
	}
	if v[0] != '.' {
		return p, false
	}
	if p.patch, v, ok = parseInt(v[1:]); !ok {
		return p, false
	}
	if v != "" && v[0] == '-' {
		if p.prerelease, v, ok = parsePrerelease(v); !ok {
			return p, false
		}
	}
	if v != "" && v[0] == '+' {
		if v, ok = parseBuild(v); !ok {
			return p, false
		}
	}
	return p, v == ""
}

// parseInt takes a decimal number without leading zeros off the front of v.
func parseInt(v string) (n, rest string, ok bool) {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return "", v, false
	}
	i := 1
	for i < len(v) && '0' <= v[i] && v[i] <= '9' {
		i++
	}
	if v[0] == '0' && i != 1 {
		return "", v, false
	}
	return v[:i], v[i:], true
}

// parsePrerelease takes "-ident.ident..." off the front of v: identifiers
// are non-empty, and numeric ones have no leading zero.
func parsePrerelease(v string) (pre, rest string, ok bool) {
	i, start := 1, 1
	for i < len(v) && v[i] != '+' {
		if !isIdentChar(v[i]) && v[i] != '.' {
			return "", v, false
		}
		if v[i] == '.' {
			if start == i || isBadNum(v[start:i]) {
				return "", v, false
			}
			start = i + 1
		}
		i++
	}
	if start == i || isBadNum(v[start:i]) {
		return "", v, false
	}
	return v[:i], v[i:], true
}

// parseBuild checks that v is "+ident.ident...", the whole rest.
func parseBuild(v string) (rest string, ok bool) {
	i, start := 1, 1
	for i < len(v) {
		if !isIdentChar(v[i]) && v[i] != '.' {
			return v, false
		}
		if v[i] == '.' {
			if start == i {
				return v, false
			}
			start = i + 1
		}
		i++
	}
	if start == i {
		return v, false
	}
	return "", true
}

func isIdentChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
}

func isBadNum(v string) bool {
	return isNum(v) && len(v) > 1 && v[0] == '0'
}

func isNum(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

func compareInt(x, y string) int {
	switch {
	case x == y:
		return 0
	case len(x) != len(y):
		return cmpLen(x, y)
	case x < y:
		return -1
	}
	return +1
}

func cmpLen(x, y string) int {
	if len(x) < len(y) {
		return -1
	}
	return +1
}

// comparePrerelease orders "" (a release) after any prerelease, then
// identifier by identifier: numeric ones numerically and before
// alphanumeric ones, which compare as ASCII; a shorter list comes first.
func comparePrerelease(x, y string) int {
	if x == y {
		return 0
	}
	if x == "" {
		return +1
	}
	if y == "" {
		return -1
	}
	for x != "" && y != "" {
		var dx, dy string
		dx, x = nextIdent(x[1:]) // skip - or .
		dy, y = nextIdent(y[1:])
		if dx == dy {
			continue
		}
		ix, iy := isNum(dx), isNum(dy)
		switch {
		case ix != iy:
			if ix {
				return -1
			}
			return +1
		case ix && len(dx) != len(dy):
			return cmpLen(dx, dy)
		case dx < dy:
			return -1
		}
		return +1
	}
	if x == "" {
		return -1
	}
	return +1
}

func nextIdent(x string) (ident, rest string) {
	i := 0
	for i < len(x) && x[i] != '.' {
		i++
	}
	return x[:i], x[i:]
}
