package main

import (
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/wechatpay-chain/wechatpay"
)

// credentials are the merchant's credentials, from flags or WECHATPAY_*.
type credentials struct {
	mchID, serial, cert, privateKey      string
	publicKey, publicKeyID, platformCert string
	apiv3Key, secret, baseURL            string
}

// fields names each credential's flag and variable.
func (c *credentials) fields() []struct {
	p               *string
	name, env, what string
} {
	return []struct {
		p               *string
		name, env, what string
	}{
		{&c.mchID, "mchid", "WECHATPAY_MCHID", "merchant id"},
		{&c.serial, "serial", "WECHATPAY_SERIAL", "merchant API certificate serial"},
		{&c.cert, "cert", "WECHATPAY_CERT", "merchant API certificate apiclient_cert.pem (gives -serial)"},
		{&c.privateKey, "private-key", "WECHATPAY_PRIVATE_KEY", "merchant API private key apiclient_key.pem: path, file:// or PEM"},
		{&c.publicKey, "public-key", "WECHATPAY_PUBLIC_KEY", "WeChat Pay public key pub_key.pem"},
		{&c.publicKeyID, "public-key-id", "WECHATPAY_PUBLIC_KEY_ID", "WeChat Pay public key id, PUB_KEY_ID_..."},
		{&c.platformCert, "platform-cert", "WECHATPAY_PLATFORM_CERT", "platform certificate files, comma-separated"},
		{&c.apiv3Key, "apiv3-key", "WECHATPAY_APIV3_KEY", "APIv3 key"},
		{&c.secret, "secret", "WECHATPAY_SECRET", "APIv2 key"},
		{&c.baseURL, "base-url", "WECHATPAY_BASE_URL", "base URL (default: the catalog's host for the path)"},
	}
}

// register adds the credential flags to fs. Their defaults are not taken
// from the environment here: usage text would print them, keys included.
func (c *credentials) register(fs *flag.FlagSet) {
	for _, f := range c.fields() {
		fs.StringVar(f.p, f.name, "", f.what+" (or $"+f.env+")")
	}
}

// fromEnv fills what the flags left empty from the environment.
func (c *credentials) fromEnv(getenv func(string) string) {
	for _, f := range c.fields() {
		if *f.p == "" {
			*f.p = getenv(f.env)
		}
	}
}

// signing returns the Config fields that sign APIv3 requests.
func (c *credentials) signing() (wechatpay.Config, error) {
	cfg := wechatpay.Config{MchID: c.mchID, BaseURL: c.baseURL, Secret: c.secret}
	if c.privateKey == "" {
		return cfg, nil
	}
	key, err := wechatpay.LoadPrivateKey(c.privateKey)
	if err != nil {
		return cfg, fmt.Errorf("-private-key: %w", err)
	}
	cfg.PrivateKey = key
	cfg.Serial = c.serial
	if cfg.Serial == "" && c.cert != "" {
		cert, err := wechatpay.LoadCertificate(c.cert)
		if err != nil {
			return cfg, fmt.Errorf("-cert: %w", err)
		}
		cfg.Serial = wechatpay.CertificateSerial(cert)
	}
	if cfg.Serial == "" {
		return cfg, errors.New("the merchant API certificate serial is missing: set -serial, -cert, $WECHATPAY_SERIAL or $WECHATPAY_CERT")
	}
	return cfg, nil
}

// checkAPIv3Key says what is wrong with the APIv3 key given, before
// anything is sent: its length only, never the key.
func (c *credentials) checkAPIv3Key() error {
	switch {
	case c.apiv3Key == "":
		return errors.New("the APIv3 key is missing: set -apiv3-key or $WECHATPAY_APIV3_KEY")
	case len(c.apiv3Key) != 32:
		return fmt.Errorf("the APIv3 key has %d characters: the APIv3 key set in the merchant platform has 32 (-apiv3-key or $WECHATPAY_APIV3_KEY)", len(c.apiv3Key))
	}
	return nil
}

// verification returns the fixed verification keys: the public key and
// the platform certificates given.
func (c *credentials) verification() (map[string]*rsa.PublicKey, error) {
	certs := map[string]*rsa.PublicKey{}
	if c.publicKey != "" {
		if c.publicKeyID == "" {
			return nil, errors.New("-public-key needs -public-key-id (PUB_KEY_ID_..., shown next to the key in the merchant platform)")
		}
		pub, err := wechatpay.LoadPublicKey(c.publicKey)
		if err != nil {
			return nil, fmt.Errorf("-public-key: %w", err)
		}
		certs[c.publicKeyID] = pub
	}
	for _, file := range strings.Split(c.platformCert, ",") {
		if file = strings.TrimSpace(file); file == "" {
			continue
		}
		cert, err := wechatpay.LoadCertificate(file)
		if err != nil {
			return nil, fmt.Errorf("-platform-cert: %w", err)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("-platform-cert %s: the certificate holds a %T key; expected RSA", file, cert.PublicKey)
		}
		certs[wechatpay.CertificateSerial(cert)] = pub
	}
	return certs, nil
}
