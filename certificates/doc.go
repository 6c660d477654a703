// Package certificates downloads WeChat Pay platform certificates
// (GET /v3/certificates), decrypts them with the APIv3 key, and keeps them
// fresh for a Builder's verifier. One call builds the Builder with a
// Manager as its wechatpay.Config.Keys and starts it:
//
//	b, mgr, err := certificates.NewBuilder(ctx, wechatpay.Config{...}, certificates.Config{APIv3Key: apiv3Key})
//	// first download done; then every 12 h, and on an unknown serial
//	defer mgr.Stop()
//
// NewManager and Manager.Start are the same in steps, for a
// wechatpay.Config.Keys that combines the Manager with another key source.
//
// An unknown serial in an answer from WeChat Pay downloads at most once a
// minute; one in a notification, which anyone can send, has a budget of its
// own (Config.NotificationMissInterval), so forged notifications cannot
// hold back the download a real certificate rotation needs.
//
// Each downloaded certificate must be what WeChat Pay issues (an RSA key of
// 2048 bits or more, within its validity, not self-signed, issued under
// the name of Tenpay.com Root CA) and the answer must be signed by one of
// them; the CA's signature is not verified (see Download). After each
// verified download the Manager knows exactly the certificates listed.
//
// Merchants with only the WeChat Pay public key (PUB_KEY_ID_...) need none
// of this; both together work too, each key found by its serial.
package certificates
