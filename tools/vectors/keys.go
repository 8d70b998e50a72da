package main

import (
	gocrypto "crypto"
	"encoding/base64"

	"github.com/cloudflare/circl/sign/bls"
	"github.com/filecoin-project/go-address"
	filcrypto "github.com/filecoin-project/go-crypto"
	"github.com/filecoin-project/go-state-types/crypto"
	"gitlab.com/yawning/secp256k1-voi/secec"
	"golang.org/x/crypto/blake2b"
)

type secpKey struct {
	private []byte
	public  []byte
	address address.Address
}

// newSecpKey is the fixed secp256k1 key of the vectors: blake2b-256 of a label.
func newSecpKey() secpKey {
	sum := blake2b.Sum256([]byte("damocles chain vectors: secp256k1 key"))
	priv := sum[:]
	pub := filcrypto.PublicKey(priv)
	return secpKey{private: priv, public: pub, address: must(address.NewSecp256k1Address(pub))}
}

// signSecp signs as Lotus's secp256k1 signer does (blake2b-256 of the data, 65-byte [R|S|V] signature),
// with RFC 6979 nonces so the signature is reproducible; go-crypto's Sign draws a random nonce instead.
func signSecp(k secpKey, data []byte) []byte {
	digest := blake2b.Sum256(data)
	sk := must(secec.NewPrivateKey(k.private))
	sig := must(sk.Sign(secec.RFC6979SHA256(), digest[:], &secec.ECDSAOptions{
		Hash: gocrypto.SHA256, Encoding: secec.EncodingCompactRecoverable, RejectMalleable: true,
	}))
	if !filcrypto.Verify(k.public, digest[:], sig) {
		panic("go-crypto refuses the RFC 6979 signature")
	}
	return sig
}

type blsKey struct {
	private *bls.PrivateKey[bls.KeyG1SigG2]
	scalar  []byte // big-endian
	public  []byte // 48-byte compressed G1
	address address.Address
}

// newBlsKey is the fixed BLS key: a scalar made from a label, kept below the group order.
func newBlsKey() blsKey {
	sum := blake2b.Sum256([]byte("damocles chain vectors: bls key"))
	scalar := sum[:]
	scalar[0] &= 0x3f
	sk := new(bls.PrivateKey[bls.KeyG1SigG2])
	check(sk.UnmarshalBinary(scalar))
	pub := must(sk.PublicKey().MarshalBinary())
	return blsKey{private: sk, scalar: scalar, public: pub, address: must(address.NewBLSAddress(pub))}
}

// signBls signs the data itself (Filecoin BLS signs the message CID bytes, no pre-hash) in G2 with the
// ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_, as filecoin-ffi (blst) does.
func signBls(k blsKey, data []byte) []byte {
	sig := bls.Sign(k.private, data)
	if !bls.Verify(k.private.PublicKey(), data, sig) {
		panic("bls signature does not verify")
	}
	return sig
}

type SignatureVector struct {
	Message     string `json:"message"`
	Signature   string `json:"signature"`
	SignedBytes string `json:"signedBytes"`
	SignedCid   string `json:"signedCid"`
}

type SecpVectors struct {
	PrivateKey string            `json:"privateKey"`
	PublicKey  string            `json:"publicKey"`
	Address    string            `json:"address"`
	Signatures []SignatureVector `json:"signatures"`
	// RandomNonce is a signature by go-crypto's own Sign (random nonce): the TS side can only verify it.
	RandomNonce SignatureVector `json:"randomNonce"`
}

type BlsVectors struct {
	PrivateKey string `json:"privateKey"`
	// LotusPrivateKey is how a Lotus keystore holds the same key: base64 of the little-endian scalar.
	LotusPrivateKey string            `json:"lotusPrivateKey"`
	PublicKey       string            `json:"publicKey"`
	Address         string            `json:"address"`
	Signatures      []SignatureVector `json:"signatures"`
}

func signedVector(m MessageVector, sig crypto.Signature) SignatureVector {
	sm := SignedMessage{Message: m.msg, Signature: sig}
	return SignatureVector{Message: m.Name, Signature: h(sig.Data), SignedBytes: h(cborOf(&sm)), SignedCid: sm.Cid().String()}
}

func secpVectors(k secpKey, messages []MessageVector) SecpVectors {
	out := SecpVectors{PrivateKey: h(k.private), PublicKey: h(k.public), Address: k.address.String()}
	for _, m := range messages {
		if m.msg.From != k.address {
			continue
		}
		sig := crypto.Signature{Type: crypto.SigTypeSecp256k1, Data: signSecp(k, m.msg.Cid().Bytes())}
		out.Signatures = append(out.Signatures, signedVector(m, sig))
	}
	first := messages[0]
	digest := blake2b.Sum256(first.msg.Cid().Bytes())
	random := must(filcrypto.Sign(k.private, digest[:]))
	out.RandomNonce = signedVector(first, crypto.Signature{Type: crypto.SigTypeSecp256k1, Data: random})
	return out
}

func blsVectors(k blsKey, messages []MessageVector) BlsVectors {
	le := make([]byte, len(k.scalar))
	for i := range k.scalar {
		le[i] = k.scalar[len(k.scalar)-1-i]
	}
	out := BlsVectors{PrivateKey: h(k.scalar), LotusPrivateKey: base64.StdEncoding.EncodeToString(le),
		PublicKey: h(k.public), Address: k.address.String()}
	for _, m := range messages {
		if m.msg.From != k.address {
			continue
		}
		sig := crypto.Signature{Type: crypto.SigTypeBLS, Data: signBls(k, m.msg.Cid().Bytes())}
		out.Signatures = append(out.Signatures, signedVector(m, sig))
	}
	return out
}
