package wechatpaytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// Upload is a multipart upload as the server received it.
type Upload struct {
	Meta        []byte // the meta part, the JSON the signature covers
	Filename    string // the file part's file name
	ContentType string // the file part's content type
	File        []byte // the file part's bytes
	// Headers are the headers of every part, in the order received, so
	// that a test can tell that no field added one.
	Headers []textproto.MIMEHeader
}

func parseUpload(body []byte, boundary string) (*Upload, error) {
	if boundary == "" {
		return nil, errors.New("multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	u := &Upload{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the multipart body: %w", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		u.Headers = append(u.Headers, p.Header)
		switch p.FormName() {
		case "meta":
			u.Meta = data
		case "file":
			u.File, u.Filename, u.ContentType = data, p.FileName(), p.Header.Get("Content-Type")
		}
	}
	if u.Meta == nil || u.File == nil {
		return nil, errors.New(`the upload needs a "meta" part and then a "file" part`)
	}
	return u, nil
}

// check compares the file with the meta's sha256, as WeChat Pay does.
func (u *Upload) check() *rejection {
	var meta struct {
		Filename string `json:"filename"`
		SHA256   string `json:"sha256"`
	}
	if err := json.Unmarshal(u.Meta, &meta); err != nil || meta.Filename == "" || meta.SHA256 == "" {
		return &rejection{status: 400, code: "PARAM_ERROR", message: "meta 格式错误", issue: "meta needs filename and sha256"}
	}
	sum := sha256.Sum256(u.File)
	if !strings.EqualFold(meta.SHA256, hex.EncodeToString(sum[:])) {
		return &rejection{status: 400, code: "PARAM_ERROR", message: "文件sha256不匹配",
			issue: fmt.Sprintf("the file's sha256 is %x, the meta says %s", sum, meta.SHA256)}
	}
	return nil
}

// uploaded answers the upload endpoints with a media id (marketing image
// uploads answer a media_url).
func uploaded(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "/marketing/") {
		JSON(w, http.StatusOK, map[string]string{"media_url": "https://wxpaylogo.qpic.cn/wxpaylogo/" + randomHex(16)})
		return
	}
	JSON(w, http.StatusOK, map[string]string{"media_id": randomHex(32)})
}
