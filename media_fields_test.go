package wechatpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/textproto"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
)

// TestMediaFieldsCannotInjectHeaders pins that an upload's file name and
// content type cannot add part headers: control characters are refused
// before anything is sent, quotes and backslashes are escaped, and the
// server parses exactly the parts and headers intended.
func TestMediaFieldsCannotInjectHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	const injected = "X-Injected-SENTINEL-5d1e: 1"

	refused := []struct {
		name        string
		media       wechatpay.Media
		field, want string
	}{
		{"CRLF in the file name", wechatpay.Media{Filename: "a.png\r\n" + injected}, "Filename", `'\r'`},
		{"quote and CRLF in the file name", wechatpay.Media{Filename: "a.png\"\r\nContent-Type: text/html\r\n" + injected}, "Filename", `'\r'`},
		{"LF in the file name", wechatpay.Media{Filename: "a.png\n" + injected}, "Filename", `'\n'`},
		{"CR in the file name", wechatpay.Media{Filename: "a.png\r" + injected}, "Filename", `'\r'`},
		{"NUL in the file name", wechatpay.Media{Filename: "a\x00.png"}, "Filename", `'\x00'`},
		{"tab in the file name", wechatpay.Media{Filename: "a\t.png"}, "Filename", `'\t'`},
		{"DEL in the file name", wechatpay.Media{Filename: "a\x7f.png"}, "Filename", `'\x7f'`},
		// JSON would send U+FFFD in the meta, the raw byte in the part
		// header: two names for one file (found by FuzzMultipartFields).
		{"a file name that is not UTF-8", wechatpay.Media{Filename: "\xff.png"}, "Filename", "is not UTF-8"},
		{"CRLF in the content type", wechatpay.Media{Filename: "a.png", ContentType: "image/png\r\n" + injected}, "ContentType", `'\r'`},
		{"LF in the content type", wechatpay.Media{Filename: "a.png", ContentType: "image/png\n" + injected}, "ContentType", `'\n'`},
		{"a content type that is not one", wechatpay.Media{Filename: "a.png", ContentType: `image/png; name="a`}, "ContentType", "is not a media type"},
		{"a bare word as content type", wechatpay.Media{Filename: "a.png", ContentType: "png"}, "ContentType", "is not a media type"},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			m := tt.media
			m.Reader = bytes.NewReader(png)
			before := len(srv.Requests())
			_, err := b.V3().Merchant().Media().Upload().Post(ctx, wechatpay.Options{Media: &m})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Options.Media: "+tt.field+" ")
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "expected")
			assert.Len(t, srv.Requests(), before, "nothing was sent")
		})
	}

	accepted := []struct {
		name, filename, contentType string
		wantType                    string
	}{
		{"quotes and backslashes", `report "Q1" \ final.png`, "", "image/png"},
		{"a quote then text that looks like a header", `a.png"; name="meta`, "image/png", "image/png"},
		{"unicode", "发票 2026.png", "", "image/png"},
		{"content type with a parameter", "a.bin", `application/octet-stream; name="x"`, `application/octet-stream; name="x"`},
	}
	for _, tt := range accepted {
		t.Run("accepted: "+tt.name, func(t *testing.T) {
			_, err := b.V3().Merchant().Media().Upload().Post(ctx, wechatpay.Options{Media: &wechatpay.Media{
				Filename: tt.filename, ContentType: tt.contentType, Reader: bytes.NewReader(png)}})
			require.NoError(t, err)
			got := lastAccepted(t, srv).Upload
			require.NotNil(t, got)
			assert.Equal(t, tt.filename, got.Filename)
			assert.Equal(t, tt.wantType, got.ContentType)
			assert.Equal(t, png, got.File)
			assert.JSONEq(t, `{"filename":`+jsonString(t, tt.filename)+`,"sha256":"`+sha256Hex(png)+`"}`, string(got.Meta))
			require.Len(t, got.Headers, 2, "a meta part and a file part")
			assert.Equal(t, textproto.MIMEHeader{
				"Content-Disposition": {`form-data; name="meta"`},
				"Content-Type":        {"application/json"},
			}, got.Headers[0])
			assert.Len(t, got.Headers[1], 2, "Content-Disposition and Content-Type only: %v", got.Headers[1])
			assert.Equal(t, []string{tt.wantType}, got.Headers[1]["Content-Type"])
			assert.Len(t, got.Headers[1]["Content-Disposition"], 1)
		})
	}
}

// jsonString is s as a JSON string.
func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}
