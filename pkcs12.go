package wechatpay

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

// MaxPKCS12Iterations is the most key-derivation rounds ParsePKCS12 lets a
// bundle ask for, for its MAC or for the encryption of its contents. Real
// apiclient_cert.p12 files use 1 to a few thousand; each round costs a
// hash, so a count beyond this only makes reading the file take for ever.
const MaxPKCS12Iterations = 1 << 20

// The PKCS#12 structures (RFC 7292) as go-pkcs12 reads them, down to the
// iteration counts that can be read without decrypting anything.
type (
	p12PFX struct {
		Version  int
		AuthSafe p12ContentInfo
		MacData  p12MacData `asn1:"optional"`
	}
	p12ContentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
	}
	p12MacData struct {
		Mac struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}
		MacSalt    []byte
		Iterations int `asn1:"optional,default:1"`
	}
	p12EncryptedData struct {
		Version              int
		EncryptedContentInfo struct {
			ContentType                asn1.ObjectIdentifier
			ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
			EncryptedContent           []byte `asn1:"tag:0,optional"`
		}
	}
	p12SafeBag struct {
		ID         asn1.ObjectIdentifier
		Value      asn1.RawValue `asn1:"tag:0,explicit"`
		Attributes []struct {
			ID    asn1.ObjectIdentifier
			Value asn1.RawValue `asn1:"set"`
		} `asn1:"set,optional"`
	}
	p12EncryptedPrivateKeyInfo struct {
		Algorithm     pkix.AlgorithmIdentifier
		EncryptedData []byte
	}
	// pbeParams are the parameters of the PKCS#12 PBE algorithms.
	p12PBEParams struct {
		Salt       []byte
		Iterations int
	}
	// pbes2Params (PBES2) and pbmac1Params (PBMAC1) both name a PBKDF2 KDF.
	p12PBES2Params struct {
		Kdf    pkix.AlgorithmIdentifier
		Scheme pkix.AlgorithmIdentifier
	}
	p12PBKDF2Params struct {
		Salt       asn1.RawValue
		Iterations int
		KeyLength  int                      `asn1:"optional"`
		Prf        pkix.AlgorithmIdentifier `asn1:"optional"`
	}
)

var (
	oidP12Data          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidP12EncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidP12ShroudedKey   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidP12PBE           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1} // pbeWithSHAAnd*: .1 to .6
	oidPBES2            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBMAC1           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidPBKDF2           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
)

// checkPKCS12Iterations refuses a bundle whose MAC or encryption asks for
// more than MaxPKCS12Iterations rounds, before go-pkcs12 computes any. It
// reads the counts the MAC and the encryption of each part name in the
// clear; a structure it cannot read is left to go-pkcs12, which reads it
// the same way and refuses it before deriving a key. (A key bag nested in
// an encrypted part has its own count, readable only once the part, with
// its capped count, is decrypted.)
func checkPKCS12Iterations(data []byte) error {
	var pfx p12PFX
	if unmarshalAll(data, &pfx) != nil {
		return nil
	}
	if mac := pfx.MacData.Mac.Algorithm; len(mac.Algorithm) > 0 {
		if mac.Algorithm.Equal(oidPBMAC1) {
			if err := checkPBEIterations("the MAC", mac, true); err != nil {
				return err
			}
		} else if err := checkIterations("the MAC", pfx.MacData.Iterations); err != nil {
			return err
		}
	}
	if !pfx.AuthSafe.ContentType.Equal(oidP12Data) {
		return nil
	}
	// go-pkcs12 takes the content of whatever the tag is: so does this.
	var authSafe asn1.RawValue
	var parts []p12ContentInfo
	if unmarshalAll(pfx.AuthSafe.Content.Bytes, &authSafe) != nil || unmarshalAll(authSafe.Bytes, &parts) != nil {
		return nil
	}
	for _, part := range parts {
		switch {
		case part.ContentType.Equal(oidP12EncryptedData):
			var ed p12EncryptedData
			if unmarshalAll(part.Content.Bytes, &ed) == nil {
				if err := checkPBEIterations("the certificates' encryption", ed.EncryptedContentInfo.ContentEncryptionAlgorithm, false); err != nil {
					return err
				}
			}
		case part.ContentType.Equal(oidP12Data):
			var contents []byte
			var bags []p12SafeBag
			if unmarshalAll(part.Content.Bytes, &contents) != nil || unmarshalAll(contents, &bags) != nil {
				continue
			}
			for _, bag := range bags {
				var info p12EncryptedPrivateKeyInfo
				if bag.ID.Equal(oidP12ShroudedKey) && unmarshalAll(bag.Value.Bytes, &info) == nil {
					if err := checkPBEIterations("the private key's encryption", info.Algorithm, false); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// checkPBEIterations checks the count of a PKCS#12 PBE, PBES2 or (mac)
// PBMAC1 algorithm; other algorithms derive no key from the password.
func checkPBEIterations(what string, alg pkix.AlgorithmIdentifier, mac bool) error {
	params := alg.Parameters.FullBytes
	switch {
	case len(alg.Algorithm) == len(oidP12PBE)+1 && alg.Algorithm[:len(oidP12PBE)].Equal(oidP12PBE):
		var p p12PBEParams
		if unmarshalAll(params, &p) == nil {
			return checkIterations(what, p.Iterations)
		}
	case alg.Algorithm.Equal(oidPBES2) || mac && alg.Algorithm.Equal(oidPBMAC1):
		var p p12PBES2Params
		var kdf p12PBKDF2Params
		if unmarshalAll(params, &p) == nil && p.Kdf.Algorithm.Equal(oidPBKDF2) && unmarshalAll(p.Kdf.Parameters.FullBytes, &kdf) == nil {
			return checkIterations(what, kdf.Iterations)
		}
	}
	return nil
}

func checkIterations(what string, n int) error {
	switch {
	case n > MaxPKCS12Iterations:
		return fmt.Errorf("%s takes %d key-derivation rounds; at most %d are accepted", what, n, MaxPKCS12Iterations)
	case n < 1:
		return fmt.Errorf("%s takes %d key-derivation rounds; expected 1 to %d", what, n, MaxPKCS12Iterations)
	}
	return nil
}

// unmarshalAll is asn1.Unmarshal refusing trailing bytes, as go-pkcs12 reads.
func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err == nil && len(rest) > 0 {
		err = errors.New("trailing data")
	}
	return err
}
