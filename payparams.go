package wechatpay

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wechatpay-chain/wechatpay/middleware"
)

// JSAPIParams are what a JSAPI page or mini program passes to
// WeixinJSBridge.invoke('getBrandWCPayRequest') or wx.requestPayment;
// marshal it to JSON and hand it over as it is.
type JSAPIParams struct {
	AppID     string `json:"appId"`     // the appid the prepay_id was ordered with
	TimeStamp string `json:"timeStamp"` // Unix seconds, as a string
	NonceStr  string `json:"nonceStr"`  // fresh and random for each signature
	Package   string `json:"package"`   // "prepay_id=..."
	SignType  string `json:"signType"`  // always "RSA"
	PaySign   string `json:"paySign"`   // base64 RSA signature of appId, timeStamp, nonceStr and package, by the merchant key
}

// APPParams are what an app passes to the WeChat SDK's PayReq; marshal it
// to JSON and hand it over as it is.
type APPParams struct {
	AppID     string `json:"appid"`     // the appid the prepay_id was ordered with
	PartnerID string `json:"partnerid"` // the merchant id
	PrepayID  string `json:"prepayid"`  // from v3/pay/transactions/app
	Package   string `json:"package"`   // always "Sign=WXPay"
	NonceStr  string `json:"noncestr"`  // fresh and random for each signature
	Timestamp string `json:"timestamp"` // Unix seconds, as a string
	Sign      string `json:"sign"`      // base64 RSA signature of appid, timestamp, noncestr and prepayid, by the merchant key
}

// JSAPIParams signs the client-side parameters for a JSAPI or mini program
// payment of prepayID (from v3/pay/transactions/jsapi) with the merchant key.
func (b *Builder) JSAPIParams(ctx context.Context, appID, prepayID string) (*JSAPIParams, error) {
	ts, nonce, err := b.paySignInputs(appID, prepayID)
	if err != nil {
		return nil, err
	}
	p := &JSAPIParams{AppID: appID, TimeStamp: ts, NonceStr: nonce, Package: "prepay_id=" + prepayID, SignType: "RSA"}
	if p.PaySign, err = b.paySign(ctx, p.AppID, p.TimeStamp, p.NonceStr, p.Package); err != nil {
		return nil, err
	}
	return p, nil
}

// APPParams signs the client-side parameters for an app payment of
// prepayID (from v3/pay/transactions/app) with the merchant key.
func (b *Builder) APPParams(ctx context.Context, appID, prepayID string) (*APPParams, error) {
	ts, nonce, err := b.paySignInputs(appID, prepayID)
	if err != nil {
		return nil, err
	}
	p := &APPParams{AppID: appID, PartnerID: b.mchID, PrepayID: prepayID, Package: "Sign=WXPay", NonceStr: nonce, Timestamp: ts}
	if p.Sign, err = b.paySign(ctx, p.AppID, p.Timestamp, p.NonceStr, p.PrepayID); err != nil {
		return nil, err
	}
	return p, nil
}

func (b *Builder) paySignInputs(appID, prepayID string) (timestamp, nonce string, err error) {
	switch {
	case b.ready() != nil:
		return "", "", errNotBuilt
	case b.signer == nil:
		return "", "", errors.New("wechatpay: client payment parameters need the merchant API private key (Config.PrivateKey or Config.SigningKey)")
	case appID == "" || prepayID == "":
		return "", "", errors.New("wechatpay: client payment parameters need the appid and the prepay_id")
	}
	nonce, err = middleware.Nonce()
	return strconv.FormatInt(time.Now().Unix(), 10), nonce, err
}

// paySign signs "line\n" for each line with the merchant key, base64.
func (b *Builder) paySign(ctx context.Context, lines ...string) (string, error) {
	var msg []byte
	for _, l := range lines {
		msg = append(append(msg, l...), '\n')
	}
	sig, err := b.signer.Sign(ctx, msg)
	if err != nil {
		return "", fmt.Errorf("wechatpay: signing client payment parameters: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
