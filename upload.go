package wechatpay

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Media is a file for a meta+file upload endpoint
// (v3/merchant/media/upload, video_upload, marketing and complaint image
// uploads, ...): Options.Media. The body is multipart: a "meta" JSON part
// with the file name and its SHA-256, then the "file" part; only the meta
// is signed.
type Media struct {
	// Filename names the file in the meta and the file part, in UTF-8.
	// Quotes and backslashes are escaped; a control character (CR, LF, ...)
	// is an error, as it would add a header to the part.
	Filename string
	// ContentType of the file part, a media type such as image/png (no
	// control characters); empty guesses from Filename (image/jpeg,
	// image/png, video/mp4, ...).
	ContentType string
	// Path reads the file from disk, streaming it (read twice: once to
	// hash it, once to send it).
	Path string
	// Reader reads the file instead: an io.ReadSeeker is streamed like a
	// path; any other reader is held in memory to hash it, unless SHA256 is
	// given.
	Reader io.Reader
	// SHA256 is the file's hex SHA-256, when already known.
	SHA256 string
	// Meta replaces the default meta {"filename": ..., "sha256": ...}, for
	// endpoints that want more fields; it is marshalled to JSON.
	Meta any
}

// upload is a prepared multipart body.
type upload struct {
	meta        []byte
	body        io.ReadCloser
	length      int64 // -1 when unknown
	getBody     func() (io.ReadCloser, error)
	contentType string
	close       func()
}

// multipart prepares the body: the meta part, then the file part streamed
// from its source, then the closing boundary.
func (m *Media) multipart() (*upload, error) {
	if m.Filename == "" {
		return nil, errors.New("Filename is empty")
	}
	// Both go into part headers: a CR or LF would start a header of its own.
	if err := checkHeaderText("Filename", m.Filename, "a file name such as logo.png"); err != nil {
		return nil, err
	}
	if !utf8.ValidString(m.Filename) {
		// The meta's JSON would carry U+FFFD, the part header the raw bytes.
		return nil, fmt.Errorf("Filename %q is not UTF-8: expected a file name in UTF-8 text", m.Filename)
	}
	if m.ContentType != "" {
		if err := checkHeaderText("ContentType", m.ContentType, "a media type such as image/png"); err != nil {
			return nil, err
		}
		// ParseMediaType also takes a bare word (it parses dispositions too).
		mt, _, err := mime.ParseMediaType(m.ContentType)
		if typ, sub, ok := strings.Cut(mt, "/"); err == nil && (!ok || typ == "" || sub == "") {
			err = errors.New("no type/subtype")
		}
		if err != nil {
			return nil, fmt.Errorf("ContentType %q is not a media type (%v): expected a media type such as image/png", m.ContentType, err)
		}
	}
	if (m.Path == "") == (m.Reader == nil) {
		return nil, errors.New("set Path or Reader, one of them")
	}
	if nilInside(m.Reader) {
		return nil, fmt.Errorf("Reader is a nil %T: expected a reader holding the file", m.Reader)
	}
	open, size, sum, reopenable, err := m.source()
	if err != nil {
		return nil, err
	}
	if m.SHA256 != "" {
		sum = strings.ToLower(m.SHA256)
	}
	var meta []byte
	if m.Meta != nil {
		meta, err = json.Marshal(m.Meta)
	} else {
		meta, err = json.Marshal(map[string]string{"filename": m.Filename, "sha256": sum})
	}
	if err != nil {
		return nil, fmt.Errorf("Meta: %w", err)
	}
	contentType := m.ContentType
	if contentType == "" {
		if contentType = mime.TypeByExtension(filepath.Ext(m.Filename)); contentType == "" {
			contentType = "application/octet-stream"
		}
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	boundary := hex.EncodeToString(b[:])
	head := []byte("--" + boundary + "\r\n" +
		"Content-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n" + string(meta) + "\r\n" +
		"--" + boundary + "\r\n" +
		"Content-Disposition: form-data; name=\"file\"; filename=\"" + escapeQuotes(m.Filename) + "\"\r\nContent-Type: " + contentType + "\r\n\r\n")
	tail := []byte("\r\n--" + boundary + "--\r\n")

	var opened []io.Closer
	body := func() (io.ReadCloser, error) {
		f, err := open()
		if err != nil {
			return nil, err
		}
		opened = append(opened, f)
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), f, bytes.NewReader(tail)), f}, nil
	}
	first, err := body()
	if err != nil {
		return nil, err
	}
	up := &upload{meta: meta, body: first, length: -1, contentType: "multipart/form-data; boundary=" + boundary,
		close: func() {
			for _, c := range opened {
				c.Close()
			}
		}}
	if size >= 0 {
		up.length = int64(len(head)) + size + int64(len(tail))
	}
	if reopenable {
		up.getBody = body // a second attempt (failover) reads the file again
	}
	return up, nil
}

// source returns how to open the file, its size (-1 when unknown), its
// SHA-256 (unless Media.SHA256 or Meta is given) and whether it can be read
// again for a second attempt.
func (m *Media) source() (open func() (io.ReadCloser, error), size int64, sum string, reopenable bool, err error) {
	needSum := m.SHA256 == "" && m.Meta == nil
	switch r := m.Reader.(type) {
	case nil:
		open = func() (io.ReadCloser, error) { return os.Open(m.Path) }
		fi, err := os.Stat(m.Path)
		if err != nil {
			return nil, 0, "", false, err
		}
		size = fi.Size()
	case io.ReadSeeker:
		start, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, 0, "", false, err
		}
		end, err := r.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, 0, "", false, err
		}
		open = func() (io.ReadCloser, error) {
			_, err := r.Seek(start, io.SeekStart)
			return io.NopCloser(r), err
		}
		size = end - start
	default:
		if !needSum {
			// Streamed once, as it comes: it cannot be sent again.
			return func() (io.ReadCloser, error) { return io.NopCloser(r), nil }, -1, "", false, nil
		}
		// A one-way reader: held in memory to hash it before sending.
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, 0, "", false, err
		}
		open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		size = int64(len(data))
	}
	if needSum {
		if sum, err = hashOf(open); err != nil {
			return nil, 0, "", false, err
		}
	}
	return open, size, sum, true, nil
}

func hashOf(open func() (io.ReadCloser, error)) (string, error) {
	f, err := open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// escapeQuotes escapes a file name for its quoted-string in the part's
// Content-Disposition, as mime/multipart does.
func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// checkHeaderText refuses control characters (CR and LF above all) in a
// Media field that goes into a part header.
func checkHeaderText(field, v, want string) error {
	for i := 0; i < len(v); i++ {
		if ch := v[i]; ch < 0x20 || ch == 0x7f {
			return fmt.Errorf("%s %q holds the control character %q at byte %d: it would break or add part headers; expected %s, one line without control characters", field, v, ch, i, want)
		}
	}
	return nil
}
