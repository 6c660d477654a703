package main

import (
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/wechatpay-chain/wechatpay"
)

// credentials are the merchant's credentials, from flags or WECHATPAY_*.
type credentials struct {
	mchID, serial, cert, privateKey      string
	publicKey, publicKeyID, platformCert string
	apiv3Key, secret, baseURL            string
}

// credential is one row of credentialTable.
type credential struct {
	flag, env, what string
	// config is the Config field the credential fills (APIv3Key is
	// certificates.Config's), by which the library's errors name it; ""
	// when it fills none by itself (-cert gives Config.Serial, -public-key-id
	// a key of Config.Certs).
	config string
	field  func(*credentials) *string
}

// credentialTable is the one table of the credentials' flags, environment
// variables and Config fields: the flags, the environment, the list of
// missing credentials and the rewriting of library errors (speakCLI) all
// read it.
var credentialTable = []credential{
	{"mchid", "WECHATPAY_MCHID", "merchant id", "MchID", func(c *credentials) *string { return &c.mchID }},
	{"serial", "WECHATPAY_SERIAL", "merchant API certificate serial", "Serial", func(c *credentials) *string { return &c.serial }},
	{"cert", "WECHATPAY_CERT", "merchant API certificate apiclient_cert.pem (gives -serial)", "", func(c *credentials) *string { return &c.cert }},
	{"private-key", "WECHATPAY_PRIVATE_KEY", "merchant API private key apiclient_key.pem: path, file:// or PEM", "PrivateKey", func(c *credentials) *string { return &c.privateKey }},
	{"public-key", "WECHATPAY_PUBLIC_KEY", "WeChat Pay public key pub_key.pem", "Certs", func(c *credentials) *string { return &c.publicKey }},
	{"public-key-id", "WECHATPAY_PUBLIC_KEY_ID", "WeChat Pay public key id, PUB_KEY_ID_...", "", func(c *credentials) *string { return &c.publicKeyID }},
	{"platform-cert", "WECHATPAY_PLATFORM_CERT", "platform certificate files, comma-separated", "Certs", func(c *credentials) *string { return &c.platformCert }},
	{"apiv3-key", "WECHATPAY_APIV3_KEY", "APIv3 key", "APIv3Key", func(c *credentials) *string { return &c.apiv3Key }},
	{"secret", "WECHATPAY_SECRET", "APIv2 key", "Secret", func(c *credentials) *string { return &c.secret }},
	{"base-url", "WECHATPAY_BASE_URL", "base URL (default: the catalog's host for the path)", "BaseURL", func(c *credentials) *string { return &c.baseURL }},
}

// row returns the credentialTable row of a flag.
func row(flag string) credential {
	for _, cr := range credentialTable {
		if cr.flag == flag {
			return cr
		}
	}
	panic("no credential -" + flag)
}

// label names a credential as a user sets it: "-serial / $WECHATPAY_SERIAL".
func label(flag string) string { return "-" + flag + " / $" + row(flag).env }

// register adds the credential flags to fs. Their defaults are not taken
// from the environment here: usage text would print them, keys included.
func (c *credentials) register(fs *flag.FlagSet) {
	for _, cr := range credentialTable {
		fs.StringVar(cr.field(c), cr.flag, "", cr.what+" (or $"+cr.env+")")
	}
}

// fromEnv fills what the flags left empty from the environment.
func (c *credentials) fromEnv(getenv func(string) string) {
	for _, cr := range credentialTable {
		if p := cr.field(c); *p == "" {
			*p = getenv(cr.env)
		}
	}
}

// Operations, by the credentials they need.
const (
	opV3           = "v3"           // an APIv3 request
	opV2           = "v2"           // an APIv2 request
	opCertificates = "certificates" // the certificate download
)

// missing lists every credential op needs and lacks, one line each, so
// that a run names them all rather than one per run. Their values are
// checked later.
func (c *credentials) missing(op string) error {
	var lines []string
	need := func(have bool, line string) {
		if !have {
			lines = append(lines, "  "+line)
		}
	}
	describe := func(flag string) string { return label(flag) + ": " + row(flag).what }
	need(c.mchID != "", describe("mchid"))
	if op == opV2 {
		need(c.secret != "", describe("secret"))
	} else {
		need(c.privateKey != "", describe("private-key"))
		need(c.serial != "" || c.cert != "", label("serial")+" or "+label("cert")+": merchant API certificate serial, or the certificate apiclient_cert.pem")
		switch {
		case op == opCertificates:
			need(c.apiv3Key != "", describe("apiv3-key"))
		case c.publicKey != "":
			need(c.publicKeyID != "", describe("public-key-id"))
		default:
			need(c.platformCert != "" || c.apiv3Key != "", label("public-key")+" with "+label("public-key-id")+", "+label("platform-cert")+" or "+label("apiv3-key")+
				": what verifies WeChat Pay's answers (with the APIv3 key only, request downloads the platform certificates)")
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return errors.New("missing credentials, each a flag or an environment variable:\n" + strings.Join(lines, "\n"))
}

// libraryName is how the library's errors name what the caller set:
// Options.Path["out_trade_no"], Config.Serial, certificates' Config.APIv3Key.
var libraryName = regexp.MustCompile(`\b(Options|Config)\.([A-Za-z0-9]+)(\["(?:[^"\\]|\\.)*"\])?`)

// optionFlags are the request flags that fill an Options field.
var optionFlags = map[string]string{"Path": "-path", "Query": "-query", "XML": "-xml", "JSON": "-data", "Body": "-data", "Headers": "-header"}

// speakCLI rewrites the Options and Config fields a library error names
// into the flags and variables that set them: Options.Path["out_trade_no"]
// becomes -path out_trade_no=..., Config.Serial -serial /
// $WECHATPAY_SERIAL. A field the command has no flag for stays as it is.
func speakCLI(msg string) string {
	// The command has no per-request base URL: only the Builder's.
	msg = strings.ReplaceAll(msg, "(Config.BaseURL, Options.BaseURL)", "(Config.BaseURL)")
	return libraryName.ReplaceAllStringFunc(msg, func(m string) string {
		parts := libraryName.FindStringSubmatch(m)
		kind, field, index := parts[1], parts[2], parts[3]
		key := ""
		if index != "" {
			var err error
			if key, err = strconv.Unquote(index[1 : len(index)-1]); err != nil {
				return m
			}
		}
		if kind == "Options" {
			flag, ok := optionFlags[field]
			switch {
			case !ok:
				return m
			case index != "":
				return flag + " " + key + "=..."
			}
			return flag
		}
		var labels []string
		for _, cr := range credentialTable {
			if cr.config == field {
				labels = append(labels, label(cr.flag))
			}
		}
		if len(labels) == 0 {
			return m
		}
		s := strings.Join(labels, " or ")
		if index != "" {
			s += " (" + strconv.Quote(key) + ")"
		}
		return s
	})
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
