package apiv2

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of Decode. APIv2 messages are a few KB and flat: each field holds
// text, except the red-packet query's answer (mmpaymkttransfers/gethbinfo),
// whose hblist holds hbinfo elements that hold fields.
const (
	// MaxSize is the largest body Decode reads, in bytes.
	MaxSize = 4 << 20
	// MaxDepth is how deeply Decode lets elements nest: the root is level
	// 1, its fields level 2.
	MaxDepth = 4
	// MaxFields is the most fields Decode reads from one message.
	MaxFields = 4096
)

// DecodeError explains why a body is not an APIv2 XML document.
type DecodeError struct {
	// Reason says what is wrong with the body and, for broken XML, at
	// which byte, so a caller can tell a gateway page from a cut-off answer.
	Reason string
}

// Error says why the body is not APIv2 XML.
func (e *DecodeError) Error() string {
	if e == nil {
		return "apiv2: not an APIv2 XML document (a nil *DecodeError)"
	}
	return "apiv2: not an APIv2 XML document: " + e.Reason
}

// Decode reads a body with Decoder's default limits (MaxSize, MaxDepth,
// MaxFields).
func Decode(body []byte) (map[string]string, error) { return Decoder{}.Decode(body) }

// Decoder reads APIv2 XML within limits. A body over them is refused early:
// from an unauthenticated sender (a callback) a huge or deeply nested
// document must cost next to nothing.
type Decoder struct {
	// MaxSize is the largest body accepted, in bytes; 0 means MaxSize.
	MaxSize int
	// MaxDepth is how deeply elements may nest, the root being level 1;
	// 0 means MaxDepth, 2 accepts flat messages only (notifications).
	MaxDepth int
	// MaxFields is the most fields accepted; 0 means MaxFields.
	MaxFields int
}

// Decode reads a document with any root name (<xml>, <root>) into a map of
// its child elements' text. It is a strict parser of well-formed XML 1.0
// without a DOCTYPE: it knows no entities beyond the five XML ones and
// character references, and reaches nothing outside body, so XXE payloads
// fail. Line ends read as LF, as every XML parser reads them. Element names
// are ASCII, as APIv2's are. A field that holds elements keeps its inner XML
// as received; a field that appears twice is an error. What Decode allocates stays about the size of the body: the
// values, the names and the map.
func (dc Decoder) Decode(body []byte) (map[string]string, error) {
	p := &parser{b: body, maxDepth: dc.MaxDepth, maxFields: dc.MaxFields}
	maxSize := dc.MaxSize
	if maxSize <= 0 {
		maxSize = MaxSize
	}
	if p.maxDepth <= 0 {
		p.maxDepth = MaxDepth
	}
	if p.maxFields <= 0 {
		p.maxFields = MaxFields
	}
	if len(body) > maxSize {
		return nil, &DecodeError{Reason: fmt.Sprintf("the body is %d bytes, more than the %d an APIv2 message may have", len(body), maxSize)}
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, &DecodeError{Reason: "the body is empty"}
	case trimmed[0] != '<':
		return nil, &DecodeError{Reason: fmt.Sprintf("the body starts with %q, not \"<\"", preview(trimmed))}
	case isHTML(trimmed):
		return nil, &DecodeError{Reason: "the body is an HTML page" + htmlTitle(trimmed)}
	}
	fields, err := p.document()
	if err != nil {
		return nil, err
	}
	return fields, nil
}

// parser reads one document from b. It never builds anything but the
// fields: a value is one copy of its text.
type parser struct {
	b                   []byte
	i                   int
	maxDepth, maxFields int
	contentEnd          int // where the last end tag content read began
}

func (p *parser) fail(format string, args ...any) error {
	return &DecodeError{Reason: fmt.Sprintf(format, args...) + fmt.Sprintf(" (byte %d)", p.i)}
}

func (p *parser) at(s string) bool { return bytes.HasPrefix(p.b[p.i:], []byte(s)) }

func (p *parser) eof() bool { return p.i >= len(p.b) }

func (p *parser) document() (map[string]string, error) {
	if err := p.misc(); err != nil {
		return nil, err
	}
	if p.eof() {
		return nil, p.fail("unexpected EOF: the document has no root element")
	}
	if p.at("</") {
		return nil, p.fail("an end tag before the root element")
	}
	root, empty, err := p.startTag(1)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	if !empty {
		if err := p.rootContent(root, fields); err != nil {
			return nil, err
		}
	}
	if err := p.misc(); err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.fail("the document has more than one root element")
	}
	return fields, nil
}

// misc skips what may stand outside the root element: white space,
// comments, processing instructions (the XML declaration).
func (p *parser) misc() error {
	for {
		p.space()
		switch {
		case p.eof():
			return nil
		case p.b[p.i] != '<':
			return p.fail("text %q outside the root element", preview(p.b[p.i:]))
		case p.at("<!--"):
			if err := p.comment(); err != nil {
				return err
			}
		case p.at("<?"):
			if err := p.procInst(); err != nil {
				return err
			}
		case p.at("<!"):
			return p.fail("the document has a DOCTYPE or other directive, which APIv2 messages never carry")
		default:
			return nil
		}
	}
}

func (p *parser) space() {
	for !p.eof() && isSpace(p.b[p.i]) {
		p.i++
	}
}

// isSpace reports XML white space, which is ASCII only.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

// rootContent reads the fields up to the root's end tag.
func (p *parser) rootContent(root []byte, fields map[string]string) error {
	for {
		start := p.i
		for !p.eof() && p.b[p.i] != '<' {
			p.i++
		}
		if t := trimSpace(p.b[start:p.i]); len(t) > 0 {
			p.i = start
			return p.fail("text %q outside any field", preview(t))
		}
		switch {
		case p.eof():
			return p.fail("unexpected EOF: <%s> is not closed", root)
		case p.at("</"):
			return p.endTag(root)
		case p.at("<!--"):
			if err := p.comment(); err != nil {
				return err
			}
		case p.at("<?"):
			if err := p.procInst(); err != nil {
				return err
			}
		case p.at("<![CDATA["):
			text, err := p.cdata()
			if err != nil {
				return err
			}
			if t := trimSpace(text); len(t) > 0 {
				return p.fail("text %q outside any field", preview(t))
			}
		case p.at("<!"):
			return p.fail("the document has a DOCTYPE or other directive, which APIv2 messages never carry")
		default:
			name, empty, err := p.startTag(2)
			if err != nil {
				return err
			}
			if _, dup := fields[string(name)]; dup {
				return p.fail("the field <%s> appears twice", name)
			}
			if len(fields) == p.maxFields {
				return p.fail("more than %d fields", p.maxFields)
			}
			value := ""
			if !empty {
				if value, err = p.field(name); err != nil {
					return err
				}
			}
			fields[string(name)] = value
		}
	}
}

// field reads a field's content and end tag and returns its value: the
// text, or the inner XML as received when it holds elements.
func (p *parser) field(name []byte) (string, error) {
	start := p.i
	plain, nested, err := p.content(name, 2)
	if err != nil {
		return "", err
	}
	raw := p.b[start:p.contentEnd]
	if plain || nested {
		return string(raw), nil
	}
	return decodeText(raw), nil
}

// content checks the content of an element at depth up to and including
// its end tag. plain is true when the text needs no decoding (no
// reference, CR, CDATA, comment or processing instruction); nested when
// an element is inside. contentEnd is left at the end tag's "<".
func (p *parser) content(name []byte, depth int) (plain, nested bool, err error) {
	plain = true
	for {
		special, err := p.text()
		if err != nil {
			return false, false, err
		}
		plain = plain && !special
		switch {
		case p.eof():
			return false, false, p.fail("unexpected EOF: <%s> is not closed", name)
		case p.at("</"):
			p.contentEnd = p.i
			return plain, nested, p.endTag(name)
		case p.at("<!--"):
			plain = false
			if err := p.comment(); err != nil {
				return false, false, err
			}
		case p.at("<?"):
			plain = false
			if err := p.procInst(); err != nil {
				return false, false, err
			}
		case p.at("<![CDATA["):
			plain = false
			if _, err := p.cdata(); err != nil {
				return false, false, err
			}
		case p.at("<!"):
			return false, false, p.fail("the document has a DOCTYPE or other directive, which APIv2 messages never carry")
		default:
			nested = true
			child, empty, err := p.startTag(depth + 1)
			if err != nil {
				return false, false, err
			}
			if !empty {
				if _, _, err := p.content(child, depth+1); err != nil {
					return false, false, err
				}
			}
		}
	}
}

// text checks character data up to the next "<"; special is true when it
// holds a reference or a CR.
func (p *parser) text() (special bool, err error) {
	for !p.eof() {
		c := p.b[p.i]
		switch {
		case c == '<':
			return special, nil
		case c == '&':
			_, n, err := p.ref()
			if err != nil {
				return false, err
			}
			p.i += n
			special = true
		case c == '\r':
			p.i++
			special = true
		case c == ']' && p.at("]]>"):
			return false, p.fail("unescaped ]]> not in CDATA section")
		default:
			if err := p.char(); err != nil {
				return false, err
			}
		}
	}
	return special, nil
}

// char checks the character at p.i and steps over it.
func (p *parser) char() error {
	c := p.b[p.i]
	if c < utf8.RuneSelf {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return p.fail("illegal character code U+%04X", c)
		}
		p.i++
		return nil
	}
	r, size := utf8.DecodeRune(p.b[p.i:])
	if r == utf8.RuneError && size == 1 {
		return p.fail("invalid UTF-8")
	}
	if !isXMLChar(r) {
		return p.fail("illegal character code U+%04X", r)
	}
	p.i += size
	return nil
}

// ref reads the reference at p.i ("&amp;", "&#13;", "&#x1F600;"): its
// character and its length.
func (p *parser) ref() (rune, int, error) {
	r, n, ok := parseRef(p.b[p.i:])
	if !ok {
		end := bytes.IndexByte(p.b[p.i:min(len(p.b), p.i+16)], ';')
		if end < 0 {
			return 0, 0, p.fail("invalid character entity %s (no semicolon)", p.b[p.i:min(len(p.b), p.i+16)])
		}
		return 0, 0, p.fail("invalid character entity %s", p.b[p.i:p.i+end+1])
	}
	return r, n, nil
}

// parseRef reads the reference b starts with.
func parseRef(b []byte) (r rune, n int, ok bool) {
	end := bytes.IndexByte(b[:min(len(b), 16)], ';')
	if end < 2 {
		return 0, 0, false
	}
	name := string(b[1:end])
	switch name {
	case "lt":
		return '<', end + 1, true
	case "gt":
		return '>', end + 1, true
	case "amp":
		return '&', end + 1, true
	case "apos":
		return '\'', end + 1, true
	case "quot":
		return '"', end + 1, true
	}
	digits, base := name[1:], 10
	if name[0] != '#' || digits == "" {
		return 0, 0, false
	}
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil || !isXMLChar(rune(v)) {
		return 0, 0, false
	}
	return rune(v), end + 1, true
}

// startTag reads "<name attr="v">" or "<name/>" at depth.
func (p *parser) startTag(depth int) (name []byte, empty bool, err error) {
	p.i++ // "<"
	name, err = p.name()
	if err != nil {
		return nil, false, err
	}
	if depth > p.maxDepth {
		return nil, false, p.fail("<%s> is nested %d levels deep; APIv2 messages are at most %d", name, depth, p.maxDepth)
	}
	for {
		spaced := !p.eof() && isSpace(p.b[p.i])
		p.space()
		switch {
		case p.eof():
			return nil, false, p.fail("unexpected EOF in <%s>", name)
		case p.at("/>"):
			p.i += 2
			return name, true, nil
		case p.b[p.i] == '>':
			p.i++
			return name, false, nil
		case !spaced:
			return nil, false, p.fail("expected white space, \">\" or \"/>\" in <%s>", name)
		}
		if err := p.attribute(name); err != nil {
			return nil, false, err
		}
	}
}

// attribute checks one attribute; APIv2 has none, so its value is dropped.
func (p *parser) attribute(elem []byte) error {
	if _, err := p.name(); err != nil {
		return err
	}
	p.space()
	if p.eof() || p.b[p.i] != '=' {
		return p.fail("an attribute of <%s> has no value", elem)
	}
	p.i++
	p.space()
	if p.eof() || p.b[p.i] != '"' && p.b[p.i] != '\'' {
		return p.fail("an attribute value of <%s> is not quoted", elem)
	}
	quote := p.b[p.i]
	p.i++
	for {
		switch {
		case p.eof():
			return p.fail("unexpected EOF in an attribute of <%s>", elem)
		case p.b[p.i] == quote:
			p.i++
			return nil
		case p.b[p.i] == '<':
			return p.fail("\"<\" in an attribute value of <%s>", elem)
		case p.b[p.i] == '&':
			_, n, err := p.ref()
			if err != nil {
				return err
			}
			p.i += n
		default:
			if err := p.char(); err != nil {
				return err
			}
		}
	}
}

// endTag reads "</name>" for the element named open.
func (p *parser) endTag(open []byte) error {
	p.i += 2 // "</"
	name, err := p.name()
	if err != nil {
		return err
	}
	if !bytes.Equal(name, open) {
		return p.fail("element <%s> closed by </%s>", open, name)
	}
	p.space()
	if p.eof() || p.b[p.i] != '>' {
		return p.fail("expected \">\" after </%s", name)
	}
	p.i++
	return nil
}

// name reads an element or attribute name. APIv2 names are ASCII.
func (p *parser) name() ([]byte, error) {
	start := p.i
	for !p.eof() && isNameByte(p.b[p.i], p.i == start) {
		p.i++
	}
	if p.i == start {
		if p.eof() {
			return nil, p.fail("unexpected EOF where a name was expected")
		}
		return nil, p.fail("%q cannot start an element or attribute name", p.b[p.i])
	}
	return p.b[start:p.i], nil
}

func isNameByte(c byte, first bool) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_', c == ':':
		return true
	case '0' <= c && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

// comment steps over "<!-- ... -->"; "--" may not stand inside.
func (p *parser) comment() error {
	p.i += len("<!--")
	for {
		if p.eof() {
			return p.fail("unexpected EOF in a comment")
		}
		if p.at("--") {
			if !p.at("-->") {
				return p.fail("\"--\" inside a comment")
			}
			p.i += len("-->")
			return nil
		}
		if err := p.char(); err != nil {
			return err
		}
	}
}

// procInst steps over "<?target ...?>"; an XML declaration must not name
// an encoding other than UTF-8.
func (p *parser) procInst() error {
	p.i += len("<?")
	target, err := p.name()
	if err != nil {
		return err
	}
	if !p.at("?>") && (p.eof() || !isSpace(p.b[p.i])) {
		return p.fail("expected white space after <?%s", target)
	}
	start := p.i
	if err := p.until("?>", "processing instruction"); err != nil {
		return err
	}
	if strings.EqualFold(string(target), "xml") {
		if v := pseudoAttr(p.b[start:p.i-2], "version"); v != "" && v != "1.0" {
			return p.fail("XML version %q; APIv2 messages are XML 1.0", v)
		}
		if enc := pseudoAttr(p.b[start:p.i-2], "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
			return p.fail("the document is in %q; APIv2 messages are UTF-8", enc)
		}
	}
	return nil
}

// pseudoAttr returns the value of name="..." in an XML declaration.
func pseudoAttr(decl []byte, name string) string {
	i := bytes.Index(decl, []byte(name))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(decl[i+len(name):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' && rest[0] != '\'' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], rest[0])
	if end < 0 {
		return ""
	}
	return string(rest[1 : 1+end])
}

// cdata steps over "<![CDATA[ ... ]]>" and returns its raw text.
func (p *parser) cdata() ([]byte, error) {
	p.i += len("<![CDATA[")
	start := p.i
	if err := p.until("]]>", "CDATA section"); err != nil {
		return nil, err
	}
	return p.b[start : p.i-3], nil
}

// until checks characters up to and including end.
func (p *parser) until(end, what string) error {
	for {
		if p.eof() {
			return p.fail("unexpected EOF in a %s", what)
		}
		if p.at(end) {
			p.i += len(end)
			return nil
		}
		if err := p.char(); err != nil {
			return err
		}
	}
}

// decodeText turns checked field content (text, references, CDATA,
// comments, processing instructions) into the field's value, reading line
// ends as LF.
func decodeText(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw)) // the value is never longer than its markup
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == '&':
			r, n, _ := parseRef(raw[i:])
			b.WriteRune(r)
			i += n
		case c == '\r':
			b.WriteByte('\n')
			if i++; i < len(raw) && raw[i] == '\n' {
				i++
			}
		case c != '<':
			b.WriteByte(c)
			i++
		case bytes.HasPrefix(raw[i:], []byte("<![CDATA[")):
			i += len("<![CDATA[")
			end := i + bytes.Index(raw[i:], []byte("]]>"))
			for j := i; j < end; j++ {
				switch {
				case raw[j] != '\r':
					b.WriteByte(raw[j])
				case j+1 < end && raw[j+1] == '\n':
				default:
					b.WriteByte('\n')
				}
			}
			i = end + len("]]>")
		case bytes.HasPrefix(raw[i:], []byte("<!--")):
			i += bytes.Index(raw[i:], []byte("-->")) + len("-->")
		default: // "<?"
			i += bytes.Index(raw[i:], []byte("?>")) + len("?>")
		}
	}
	return b.String()
}
