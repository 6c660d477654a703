package wechatpay

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzMultipartFields: no file name or content type makes the multipart
// body panic or carry other parts or headers than intended: a meta part
// and a file part, each with exactly Content-Disposition and Content-Type,
// the file name and type read back as given. Run locally with
//
//	go test -run '^$' -fuzz '^FuzzMultipartFields$' -fuzztime 30s ./
func FuzzMultipartFields(f *testing.F) {
	for _, s := range [][2]string{
		{"logo.png", ""}, {"a.png\r\nX-Injected: 1", ""}, {"a.png\"\r\nContent-Type: text/html", ""},
		{`report "Q1" \ final.png`, "image/png"}, {`a.png"; name="meta`, ""}, {"发票.pdf", "application/pdf"},
		{"a.bin", "application/octet-stream; name=\"x\""}, {"a.png", "image/png\r\nX-Injected: 1"},
		{"a.png", "png"}, {"a.png", " image/png "}, {"\xff.png", ""}, {"a", "text/plain; charset=\"\\\"\""},
	} {
		f.Add(s[0], s[1])
	}
	file := []byte("file bytes")
	f.Fuzz(func(t *testing.T, filename, contentType string) {
		m := &Media{Filename: filename, ContentType: contentType, Reader: bytes.NewReader(file)}
		up, err := m.multipart()
		if err != nil {
			return
		}
		defer up.close()
		body, err := io.ReadAll(up.body)
		require.NoError(t, err)
		require.EqualValues(t, len(body), up.length)
		mt, params, err := mime.ParseMediaType(up.contentType)
		require.NoError(t, err)
		require.Equal(t, "multipart/form-data", mt)

		wantType := contentType
		if wantType == "" {
			if wantType = mime.TypeByExtension(filepath.Ext(filename)); wantType == "" {
				wantType = "application/octet-stream"
			}
		}
		// A header value is read back without surrounding blanks.
		wantType = strings.Trim(wantType, " ")

		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		var headers []textproto.MIMEHeader
		var parts [][]byte
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			require.NoError(t, err, "file name %q, content type %q", filename, contentType)
			data, err := io.ReadAll(p)
			require.NoError(t, err)
			headers, parts = append(headers, p.Header), append(parts, data)
		}
		require.Len(t, headers, 2, "file name %q, content type %q: %v", filename, contentType, headers)
		require.Equal(t, textproto.MIMEHeader{
			"Content-Disposition": {`form-data; name="meta"`},
			"Content-Type":        {"application/json"},
		}, headers[0])
		var meta struct{ Filename, SHA256 string }
		require.NoError(t, json.Unmarshal(parts[0], &meta))
		require.Equal(t, filename, meta.Filename)

		require.Len(t, headers[1], 2, "file name %q, content type %q: %v", filename, contentType, headers[1])
		require.Equal(t, []string{wantType}, headers[1]["Content-Type"])
		require.Len(t, headers[1]["Content-Disposition"], 1)
		disposition, dparams, err := mime.ParseMediaType(headers[1]["Content-Disposition"][0])
		require.NoError(t, err, "file name %q", filename)
		require.Equal(t, "form-data", disposition)
		require.Equal(t, map[string]string{"name": "file", "filename": filename}, dparams)
		require.Equal(t, file, parts[1])
	})
}
