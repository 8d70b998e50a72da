package main

import (
	"bytes"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/big"
)

type TokenVector struct {
	Atto string `json:"atto"`
	// Bytes is the big.Int serialization (sign byte + big-endian magnitude, empty for zero); Cbor is
	// that as a CBOR byte string, the way TokenAmount fields travel.
	Bytes string `json:"bytes"`
	Cbor  string `json:"cbor"`
}

func tokenVectors() []TokenVector {
	values := []string{
		"0", "1", "-1", "255", "256", "1000000000000000000", "-1000000000000000000",
		"200000000000000000", "123456789012345678901234567890", "2000000000000000000000000000",
		"18446744073709551616", "-340282366920938463463374607431768211455",
	}
	var out []TokenVector
	for _, s := range values {
		v := must(big.FromString(s))
		var buf bytes.Buffer
		check(v.MarshalCBOR(&buf))
		out = append(out, TokenVector{Atto: s, Bytes: h(must(v.Bytes())), Cbor: h(buf.Bytes())})
	}
	return out
}

type CommCidVector struct {
	Kind       string `json:"kind"`
	Commitment string `json:"commitment"`
	Cid        string `json:"cid"`
}

func commR(seed byte) []byte { return pattern(32, seed, 3) }
func commD(seed byte) []byte {
	c := pattern(32, seed, 5)
	c[31] &= 0x3f // a Fr32 value, as a real CommD/CommP is
	return c
}

func commCidVectors() []CommCidVector {
	var out []CommCidVector
	for _, seed := range []byte{1, 77} {
		r := commR(seed)
		out = append(out, CommCidVector{Kind: "sealed", Commitment: h(r), Cid: must(commcid.ReplicaCommitmentV1ToCID(r)).String()})
		d := commD(seed)
		out = append(out, CommCidVector{Kind: "unsealed", Commitment: h(d), Cid: must(commcid.DataCommitmentV1ToCID(d)).String()})
	}
	return out
}
